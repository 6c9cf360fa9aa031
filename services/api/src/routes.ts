import { QueryFailedError } from "typeorm";
import type { DataSource } from "typeorm";
import { Customer } from "./entities/customer.js";
import { Order } from "./entities/order.js";
import {
  customerNotFound,
  databaseUnavailable,
  emailTaken,
  invalidTransition,
  notFound,
  validationFailed,
} from "./http/errors.js";
import type { Route } from "./http/router.js";
import type { Handler, Reply, RequestContext } from "./http/types.js";
import { allowedTransitions, canTransition } from "./order-status.js";
import { CreateCustomerInput, CreateOrderInput, ListOrdersQuery, UpdateOrderInput, Uuid, parseInput } from "./schema.js";

// PostgreSQL SQLSTATEs we turn into client errors (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const UNIQUE_VIOLATION = "23505";
const FOREIGN_KEY_VIOLATION = "23503";

/** The api's resource endpoints: customers and their orders. */
export function resourceRoutes(dataSource: DataSource): Route<Handler>[] {
  function requireDatabase(): void {
    if (!dataSource.isInitialized) throw databaseUnavailable();
  }

  async function createCustomer(context: RequestContext): Promise<Reply> {
    const input = parseInput(CreateCustomerInput, await context.readJson());
    if (!input.ok) throw validationFailed(input.issues);
    requireDatabase();
    try {
      const repository = dataSource.getRepository(Customer);
      const customer = await repository.save(repository.create(input.value));
      return created(`/customers/${customer.id}`, customerJson(customer));
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) throw emailTaken(input.value.email);
      throw error;
    }
  }

  async function getCustomer(context: RequestContext): Promise<Reply> {
    const id = context.params.id ?? "";
    // A malformed id names no customer; checking here also spares PostgreSQL a uuid cast error.
    if (!Uuid.safeParse(id).success) throw notFound("customer", id);
    requireDatabase();
    const customer = await dataSource.getRepository(Customer).findOneBy({ id });
    if (customer === null) throw notFound("customer", id);
    return { status: 200, body: customerJson(customer) };
  }

  async function createOrder(context: RequestContext): Promise<Reply> {
    const input = parseInput(CreateOrderInput, await context.readJson());
    if (!input.ok) throw validationFailed(input.issues);
    requireDatabase();
    try {
      const repository = dataSource.getRepository(Order);
      const order = await repository.save(repository.create(input.value));
      return created(`/orders/${order.id}`, orderJson(order));
    } catch (error) {
      // The foreign key answers "does this customer exist?" atomically with the insert.
      if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw customerNotFound(input.value.customerId);
      throw error;
    }
  }

  async function listOrders(context: RequestContext): Promise<Reply> {
    const query = parseInput(ListOrdersQuery, Object.fromEntries(context.query), "query");
    if (!query.ok) throw validationFailed(query.issues);
    requireDatabase();
    const { customerId, status, limit } = query.value;
    const orders = await dataSource.getRepository(Order).find({
      where: { ...(customerId === undefined ? {} : { customerId }), ...(status === undefined ? {} : { status }) },
      order: { createdAt: "DESC", id: "DESC" },
      take: limit,
    });
    return { status: 200, body: { orders: orders.map(orderJson) } };
  }

  async function getOrder(context: RequestContext): Promise<Reply> {
    const id = context.params.id ?? "";
    if (!Uuid.safeParse(id).success) throw notFound("order", id);
    requireDatabase();
    const order = await dataSource.getRepository(Order).findOneBy({ id });
    if (order === null) throw notFound("order", id);
    return { status: 200, body: orderJson(order) };
  }

  async function updateOrder(context: RequestContext): Promise<Reply> {
    const id = context.params.id ?? "";
    const input = parseInput(UpdateOrderInput, await context.readJson());
    if (!Uuid.safeParse(id).success) throw notFound("order", id);
    if (!input.ok) throw validationFailed(input.issues);
    requireDatabase();
    const to = input.value.status;
    // Row lock: two concurrent updates (say "shipped" and "cancelled") must not both pass the check.
    const order = await dataSource.transaction(async (manager) => {
      const current = await manager.findOne(Order, { where: { id }, lock: { mode: "pessimistic_write" } });
      if (current === null) throw notFound("order", id);
      if (!canTransition(current.status, to)) throw invalidTransition(id, current.status, to, allowedTransitions(current.status));
      if (current.status === to) return current;
      current.status = to;
      return manager.save(current);
    });
    return { status: 200, body: orderJson(order) };
  }

  return [
    { method: "POST", path: "/customers", handler: createCustomer },
    { method: "GET", path: "/customers/:id", handler: getCustomer },
    { method: "POST", path: "/orders", handler: createOrder },
    { method: "GET", path: "/orders", handler: listOrders },
    { method: "GET", path: "/orders/:id", handler: getOrder },
    { method: "PATCH", path: "/orders/:id", handler: updateOrder },
  ];
}

export function customerJson(customer: Customer): Record<string, unknown> {
  return { id: customer.id, email: customer.email, name: customer.name, createdAt: customer.createdAt.toISOString() };
}

export function orderJson(order: Order): Record<string, unknown> {
  return {
    id: order.id,
    customerId: order.customerId,
    sku: order.sku,
    quantity: order.quantity,
    status: order.status,
    createdAt: order.createdAt.toISOString(),
  };
}

function created(location: string, body: unknown): Reply {
  return { status: 201, body, headers: { location } };
}

function sqlState(error: unknown): string | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
