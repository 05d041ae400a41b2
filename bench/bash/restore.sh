#!/usr/bin/env bash
# The pipeline of the original ./restore.sh, as its guide describes it, for the benchmark:
# unpack into a temporary folder, then stream or copy each component back.
set -euo pipefail
tmp=$(mktemp -d "$WORK_DIR/bash-restore.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
s3() { aws --endpoint-url "$RUSTFS_ENDPOINT" "$@"; }
tar xzf "$ARCHIVE" -C "$tmp"

docker exec -i "$MONGO_CONTAINER" mongorestore --drop --archive --gzip < "$tmp/mongodb/mongo.archive.gz"

dir=$(docker exec "$REDIS_CONTAINER" redis-cli CONFIG GET dir | tail -n 1)
docker stop "$REDIS_CONTAINER" > /dev/null
docker cp "$tmp/redis/dump.rdb" "$REDIS_CONTAINER:$dir/dump.rdb"
docker cp "$tmp/redis/appendonlydir/." "$REDIS_CONTAINER:$dir/appendonlydir"
docker start "$REDIS_CONTAINER" > /dev/null

for path in "$tmp"/rustfs/*/; do
  bucket=$(basename "$path")
  s3 s3 mb "s3://$bucket" > /dev/null 2>&1 || true
  s3 s3 sync "$path" "s3://$bucket" --only-show-errors
done

cp "$tmp/secrets/.env" "$PROJECT_DIR/docker/.env"
cp -r "$tmp/secrets/keys/." "$PROJECT_DIR/docker/keys/"
