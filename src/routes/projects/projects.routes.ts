import { crudRoutes } from "../../lib/crud-routes";
import { IdParams } from "../../lib/schemas";
import {
  CreateProjectBody,
  exampleProjectId,
  ListProjectsQuery,
  ProjectEnvelope,
  ProjectPage,
  UpdateProjectBody,
} from "./projects.schemas";

export const { list, create, getOne, patch, remove } = crudRoutes({
  path: "/v1/projects",
  param: "id",
  tag: "Projects",
  noun: { one: "project", many: "projects" },
  scopes: { read: "entries:read", write: "entries:write" },
  schemas: {
    listQuery: ListProjectsQuery,
    envelope: ProjectEnvelope,
    page: ProjectPage,
    createBody: CreateProjectBody,
    updateBody: UpdateProjectBody,
    params: IdParams,
  },
  exampleLocation: `/v1/projects/${exampleProjectId}`,
  describe: {
    list: "A to Z by name whatever the case of ASCII letters (then in code point order: Ä after z), ties by id, each with its customer; filter by `q`, `active` and `customer_id`.",
    create:
      "Only `name` is required. `customer_id` must name a customer of the organization (otherwise 400 on `customer_id`); `currency` is required when `hourly_rate` is set. Projects start active.",
    getOne: "One project, with its customer.",
    patch:
      "Changes any subset of the fields (null clears an optional one) and bumps `updated_at`. The merged project must still have a `currency` when it has an `hourly_rate`. Deactivate a project with `active: false`. A new `hourly_rate` or `currency` moves the amounts of the drafts that bill the project's hours: each gets a new `version` (an If-Match read before is then 412 on it) and an `invoice.updated` event; issued invoices keep what they billed. While time entries of the project are on a draft invoice (which bills the project's customer) its `customer_id` cannot change: 409 `PROJECT_ON_DRAFT_INVOICE` naming the drafts; detach the entries or issue the invoice first. Once its entries are on an issued invoice (sent, overdue or paid), which billed that customer, the project keeps its customer for good: 409 `PROJECT_INVOICED` naming the invoices (record the other customer's work on a new project).",
    remove:
      "A project that has time entries is 409 `IN_USE` (deactivate it with `active: false` instead): nothing is deleted in cascade.",
  },
  errors: { patch: ["PROJECT_ON_DRAFT_INVOICE", "PROJECT_INVOICED"], remove: ["IN_USE"] },
});

export type ListRoute = typeof list;
export type CreateRoute = typeof create;
export type GetOneRoute = typeof getOne;
export type PatchRoute = typeof patch;
export type RemoveRoute = typeof remove;
