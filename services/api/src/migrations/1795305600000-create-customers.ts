import type { MigrationInterface, QueryRunner } from "typeorm";

export class CreateCustomers1795305600000 implements MigrationInterface {
  // Set explicitly: TypeORM records this name in the migrations table and reads the
  // timestamp from its last 13 digits, so it must not depend on how the class is compiled.
  name = "CreateCustomers1795305600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    // gen_random_uuid() is built into PostgreSQL 13+, so no extension (and no superuser) is needed.
    await queryRunner.query(`
      CREATE TABLE "customers" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "email" text NOT NULL,
        "name" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "customers_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "customers_email_key" UNIQUE ("email")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "customers"`);
  }
}
