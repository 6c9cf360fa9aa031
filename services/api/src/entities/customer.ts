import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from "typeorm";

// Constraint names are spelled out (here and in the migrations) so that the schema the
// migrations build and the schema TypeORM derives from these entities are identical;
// test/migrations.test.ts checks that TypeORM sees nothing to change.
@Entity({ name: "customers" })
@Unique("customers_email_key", ["email"])
export class Customer {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "customers_pkey" })
  id!: string;

  @Column({ type: "text" })
  email!: string;

  @Column({ type: "text" })
  name!: string;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt!: Date;
}
