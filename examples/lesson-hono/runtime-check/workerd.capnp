# workerd config for the runtime check (docs/runtimes.md). Bundle first:
#   npx esbuild examples/lesson-hono/runtime-check/worker.ts --bundle --format=esm --platform=neutral \
#     "--external:node:*" --conditions=flagon-source --main-fields=module,main \
#     --outfile=examples/lesson-hono/runtime-check/worker.js
# then: workerd serve examples/lesson-hono/runtime-check/workerd.capnp, and GET http://127.0.0.1:8799/
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .checkWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8799", http = (), service = "main") ],
);

const checkWorker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2025-09-01",
  # node:crypto and node:buffer come from here; without it the module fails to load.
  compatibilityFlags = ["nodejs_compat"],
);
