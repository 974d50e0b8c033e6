# The zarrio CLI in a container, from the packed npm tarballs (not from a registry or the sources):
#
#   bash scripts/pack.sh                  # → .pack/zarrio-<v>.tgz, .pack/zarrio-<triple>-<v>.tgz (the glibc 2.17
#                                         #   addon: needs setup.sh --for platforms; --glibc-max host packs the host build)
#   docker build -t zarrio .
#   docker run --rm -v "$(pwd)":/data zarrio create-template /data/template.nc /data/archive.zarr \
#     --global-start 2024-01-01 --global-end 2024-12-31
#
# The platform tarball carries the native addon with NetCDF/HDF5/blosc linked in, so the image
# needs no system library beyond glibc. test/package/install.test.ts runs this same npm command.
FROM node:20-bookworm-slim
WORKDIR /opt/zarrio
COPY .pack/*.tgz ./
# The main package and this image's platform package only (.pack/ may hold every platform's).
RUN npm install --omit=dev --no-audit --no-fund ./zarrio-[0-9]*.tgz ./zarrio-linux-$(node -p process.arch)-gnu-*.tgz \
    && rm ./*.tgz && npm cache clean --force
WORKDIR /data
ENTRYPOINT ["/opt/zarrio/node_modules/.bin/zarrio"]
CMD ["--help"]
