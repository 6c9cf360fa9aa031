import { CreateCustomers1795305600000 } from "./1795305600000-create-customers.js";
import { CreateOrders1795309200000 } from "./1795309200000-create-orders.js";
import { AddOrderStatus1795356000000 } from "./1795356000000-add-order-status.js";

// Listed as classes, not a glob: the compiled data-source module then works from any
// working directory and inside the image, where no source tree exists. Keep in order.
export const migrations = [CreateCustomers1795305600000, CreateOrders1795309200000, AddOrderStatus1795356000000];
