import { createRouter } from "../../lib/create-app";
import * as exportHandlers from "./export.handlers";
import * as exportRoutes from "./export.routes";
import * as handlers from "./time-entries.handlers";
import * as routes from "./time-entries.routes";

const router = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.bulkPatch, handlers.bulkPatch)
  .openapi(routes.bulkRemove, handlers.bulkRemove)
  // Before the {id} routes, so that "current", "summary" and "export" are not taken for ids.
  .openapi(routes.current, handlers.current)
  .openapi(routes.summary, handlers.summary)
  .openapi(exportRoutes.exportEntries, exportHandlers.exportEntries)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.stop, handlers.stop)
  .openapi(routes.restart, handlers.restart);

export default router;
