import type { MigrationInterface, QueryRunner } from "typeorm";

export class CreateOrders1795309200000 implements MigrationInterface {
  name = "CreateOrders1795309200000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "orders" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "customer_id" uuid NOT NULL,
        "sku" text NOT NULL,
        "quantity" integer NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "orders_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "orders_quantity_check" CHECK ("quantity" > 0),
        CONSTRAINT "orders_customer_id_fkey" FOREIGN KEY ("customer_id")
          REFERENCES "customers" ("id") ON DELETE RESTRICT
      )`);
    // PostgreSQL does not index the referencing side of a foreign key by itself;
    // listing a customer's orders needs it.
    await queryRunner.query(`CREATE INDEX "orders_customer_id_idx" ON "orders" ("customer_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "orders_customer_id_idx"`);
    await queryRunner.query(`DROP TABLE "orders"`);
  }
}
