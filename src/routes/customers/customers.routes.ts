import { crudRoutes } from "../../lib/crud-routes";
import { IdParams } from "../../lib/schemas";
import {
  CreateCustomerBody,
  CustomerEnvelope,
  CustomerPage,
  exampleCustomerId,
  ListCustomersQuery,
  UpdateCustomerBody,
} from "./customers.schemas";

export const { list, create, getOne, patch, remove } = crudRoutes({
  path: "/v1/customers",
  param: "id",
  tag: "Customers",
  noun: { one: "customer", many: "customers" },
  scopes: { read: "invoices:read", write: "invoices:write" },
  schemas: {
    listQuery: ListCustomersQuery,
    envelope: CustomerEnvelope,
    page: CustomerPage,
    createBody: CreateCustomerBody,
    updateBody: UpdateCustomerBody,
    params: IdParams,
  },
  exampleLocation: `/v1/customers/${exampleCustomerId}`,
  describe: {
    list: "A to Z by name whatever the case of ASCII letters (then in code point order: Ä after z), ties by id; filter by `q`.",
    create: "Only `name` is required; every other field is optional and may be null.",
    getOne: "One customer.",
    patch: "Changes any subset of the fields (null clears an optional one) and bumps `updated_at`.",
    remove: "A customer that still has projects or invoices is 409 `IN_USE`: nothing is deleted in cascade.",
  },
  errors: { remove: ["IN_USE"] },
});

export type ListRoute = typeof list;
export type CreateRoute = typeof create;
export type GetOneRoute = typeof getOne;
export type PatchRoute = typeof patch;
export type RemoveRoute = typeof remove;
