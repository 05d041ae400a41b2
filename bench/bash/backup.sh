#!/usr/bin/env bash
# The pipeline of the original ./backup.sh, as its guide describes it, for the benchmark:
# dump and copy everything into a temporary folder, then `tar czf` it on one core.
set -euo pipefail
tmp=$(mktemp -d "$WORK_DIR/bash-backup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/mongodb" "$tmp/redis" "$tmp/rustfs" "$tmp/secrets"
s3() { aws --endpoint-url "$RUSTFS_ENDPOINT" "$@"; }

docker exec "$MONGO_CONTAINER" mongodump --db "$MONGO_DATABASE" --archive --gzip > "$tmp/mongodb/mongo.archive.gz"
echo "$MONGO_DATABASE" > "$tmp/mongodb/database.txt"

docker exec "$REDIS_CONTAINER" redis-cli SAVE > /dev/null
dir=$(docker exec "$REDIS_CONTAINER" redis-cli CONFIG GET dir | tail -n 1)
docker cp "$REDIS_CONTAINER:$dir/dump.rdb" "$tmp/redis/dump.rdb"
docker cp "$REDIS_CONTAINER:$dir/appendonlydir" "$tmp/redis/appendonlydir"
printf 'dir=%s\n' "$dir" > "$tmp/redis/redis-layout.txt"

for bucket in $(s3 s3 ls | awk '{print $3}'); do
  s3 s3 sync "s3://$bucket" "$tmp/rustfs/$bucket" --only-show-errors
done

cp "$PROJECT_DIR/docker/.env" "$tmp/secrets/.env"
cp -r "$PROJECT_DIR/docker/keys" "$tmp/secrets/keys"
printf '{"schema":"orkestra-backup/v1","createdAt":"%s","environment":"bench","host":"%s","components":["mongodb","redis","rustfs","secrets"]}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" > "$tmp/manifest.json"
tar czf "$OUTPUT" -C "$tmp" .
