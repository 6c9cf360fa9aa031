import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Customer } from "./customer.js";

export const ORDER_STATUSES = ["pending", "paid", "shipped", "cancelled"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

@Entity({ name: "orders" })
@Check("orders_quantity_check", `"quantity" > 0`)
@Check("orders_status_check", `"status" IN ('pending', 'paid', 'shipped', 'cancelled')`)
export class Order {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "orders_pkey" })
  id!: string;

  @Index("orders_customer_id_idx")
  @Column({ name: "customer_id", type: "uuid" })
  customerId!: string;

  // Declared only so TypeORM knows the foreign key exists; the API never loads it.
  @ManyToOne(() => Customer, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "customer_id", foreignKeyConstraintName: "orders_customer_id_fkey" })
  customer?: Customer;

  @Column({ type: "text" })
  sku!: string;

  @Column({ type: "integer" })
  quantity!: number;

  @Column({ type: "text", default: "pending" })
  status!: OrderStatus;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt!: Date;
}
