# strangler's container image: the npm package (the `npm pack` tarball, so the
# image holds exactly what `npm install -g` gives a user) installed in a build
# stage and copied into a slim runtime stage that runs as a non-root user.
#
#   npm ci && npm pack && docker build -t strangler:0.1.0 .
#
# `strangler export k8s` names strangler:0.1.0 by default (--image to change
# it); its Deployment passes `serve --config /etc/strangler/strangler.yaml`.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 downloads a prebuilt binary for this Node, or compiles one
# with these when it cannot.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY strangler-*.tgz /tmp/
RUN npm install -g --omit=dev --no-audit --no-fund /tmp/strangler-*.tgz \
 && rm /tmp/strangler-*.tgz

FROM ${NODE_IMAGE}
COPY --from=build /usr/local/lib/node_modules/strangler /usr/local/lib/node_modules/strangler
RUN ln -s /usr/local/lib/node_modules/strangler/bin/strangler.js /usr/local/bin/strangler \
 && mkdir -p /etc/strangler /var/lib/strangler \
 && chown node:node /var/lib/strangler
# The node image's unprivileged user: nothing in the image is writable by it
# except the state folder (a SQLite store, when not using Redis).
USER node
WORKDIR /var/lib/strangler
# JSON log lines for the cluster's log shipper, whatever a `docker run -t` says.
ENV NODE_ENV=production STRANGLER_LOG_FORMAT=json
EXPOSE 8080 9901
ENTRYPOINT ["strangler"]
CMD ["serve", "--config", "/etc/strangler/strangler.yaml"]
