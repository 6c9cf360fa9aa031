import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Adds orders.status to a table that already holds orders.
 *
 * Existing rows are backfilled with 'pending' by the column DEFAULT itself: since
 * PostgreSQL 11, ADD COLUMN with a constant default stores the value in the catalog
 * instead of rewriting the table, so the column can be NOT NULL from the start and the
 * backfill costs no rewrite however many orders exist.
 */
export class AddOrderStatus1795356000000 implements MigrationInterface {
  name = "AddOrderStatus1795356000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "orders" ADD COLUMN "status" text NOT NULL DEFAULT 'pending'`);
    await queryRunner.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "orders_status_check" CHECK ("status" IN ('pending', 'paid', 'shipped', 'cancelled'))`,
    );
  }

  // Reverting discards every status written since; that is the price of rolling back a
  // release whose schema added the column.
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "orders" DROP CONSTRAINT "orders_status_check"`);
    await queryRunner.query(`ALTER TABLE "orders" DROP COLUMN "status"`);
  }
}
