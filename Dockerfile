# kubemu's one image: every component (apiserver, controllers, kubelet + kube-proxy, ...) runs from it; see compose.yaml.
#   BASE_IMAGE  a Debian-like image with node 20, /bin/sh and util-linux (unshare, setpriv, nsenter, mount)
#   PREBUILT=0  build from source here (npm ci, tsc, prune dev deps): what `docker compose up --build` does
#   PREBUILT=1  the context already holds dist/, production node_modules/ and images/ (offline CI:
#               docker/stage-context.mjs makes such a context; see docker/README.md)
ARG BASE_IMAGE=node:20-slim
FROM ${BASE_IMAGE}
ARG PREBUILT=0
WORKDIR /app
COPY . .
RUN if [ "$PREBUILT" = 1 ]; then \
      test -f dist/cli/main.js && test -d node_modules/pm2; \
    else \
      npm ci && npm run build && npm prune --omit=dev && npm cache clean --force; \
    fi
ENV NODE_ENV=production \
    PATH=/app/node_modules/.bin:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin \
    KUBEMU_STATE_DIR=/var/lib/kubemu
VOLUME /var/lib/kubemu
CMD ["node", "/app/dist/cli/main.js", "--help"]
