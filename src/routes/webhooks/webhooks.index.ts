import { createRouter } from "../../lib/create-app";
import * as deliveryHandlers from "./deliveries.handlers";
import * as deliveryRoutes from "./deliveries.routes";
import * as handlers from "./webhooks.handlers";
import * as routes from "./webhooks.routes";

const router = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.rotateSecret, handlers.rotateSecret)
  .openapi(deliveryRoutes.ping, deliveryHandlers.ping)
  .openapi(deliveryRoutes.list, deliveryHandlers.list)
  .openapi(deliveryRoutes.retry, deliveryHandlers.retry);

export default router;
