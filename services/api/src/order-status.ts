import type { OrderStatus } from "./entities/order.js";

// The order lifecycle. Shipped and cancelled orders are final.
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ["paid", "cancelled"],
  paid: ["shipped", "cancelled"],
  shipped: [],
  cancelled: [],
};

export function allowedTransitions(from: OrderStatus): readonly OrderStatus[] {
  return NEXT[from];
}

/** Whether an order may move from one status to another. Staying put is allowed, so a retried request succeeds. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return from === to || NEXT[from].includes(to);
}
