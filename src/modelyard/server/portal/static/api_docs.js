/* Starts Swagger UI (served by this server from the swagger-ui-bundle package) on /docs. */
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const node = document.getElementById("swagger-ui");
  // eslint-disable-next-line no-undef
  SwaggerUIBundle({ url: node.dataset.schema, dom_id: "#swagger-ui", deepLinking: true });
});
