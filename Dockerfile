# weir, the PostgreSQL pooler: a production image.
#   docker build -t weir .
#   docker run -p 6432:6432 -p 9127:9127 -e WEIR_APP_PASSWORD=… \
#     -v $PWD/deploy/weir.yaml:/etc/weir/weir.yaml:ro weir
# SIGTERM (docker stop, a Kubernetes rollout) drains: weir stops accepting, lets transactions in
# flight finish for shutdown_timeout, then exits; give the container longer than that to stop.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci && npm run build && npm prune --omit=dev \
 && rm -rf e2e bench examples/*/test .turbo

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src /app
COPY deploy/weir.yaml /etc/weir/weir.yaml
# The image's own unprivileged user (uid 1000); weir needs no privileges to listen on 6432.
USER node
EXPOSE 6432 9127
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:9127/healthz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "/app/packages/weir/dist/cli.js"]
CMD ["start", "--config", "/etc/weir/weir.yaml"]
