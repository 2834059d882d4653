import { createRouter } from "../../lib/create-app";
import * as handlers from "./invoices.handlers";
import * as routes from "./invoices.routes";

const router = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.attach, handlers.attach)
  .openapi(routes.detach, handlers.detach);

export default router;
