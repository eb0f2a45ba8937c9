package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// dumpRedis reads every key of the proof's Redis database with its value, type by type
// (DUMP would compress large values and hide what they hold).
func (d *deployment) dumpRedis() map[string][]byte {
	rdb := d.redis()
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[string][]byte{}
	iter := rdb.Scan(ctx, 0, "*", 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if key == proofRedisMark {
			continue
		}
		v, err := redisValue(ctx, rdb, key)
		if err != nil {
			d.t.Fatalf("redis %s: %v", key, err)
		}
		out[key] = v
	}
	if err := iter.Err(); err != nil {
		d.t.Fatal(err)
	}
	return out
}

func redisValue(ctx context.Context, rdb *redis.Client, key string) ([]byte, error) {
	typ, err := rdb.Type(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	var parts []string
	switch typ {
	case "string":
		s, err := rdb.Get(ctx, key).Result()
		if err != nil && err != redis.Nil {
			return nil, err
		}
		parts = []string{s}
	case "hash":
		m, err := rdb.HGetAll(ctx, key).Result()
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			parts = append(parts, k, v)
		}
	case "set":
		parts, err = rdb.SMembers(ctx, key).Result()
	case "list":
		parts, err = rdb.LRange(ctx, key, 0, -1).Result()
	case "zset":
		parts, err = rdb.ZRange(ctx, key, 0, -1).Result()
	case "stream":
		msgs, err2 := rdb.XRange(ctx, key, "-", "+").Result()
		err = err2
		for _, m := range msgs {
			parts = append(parts, fmt.Sprint(m.Values))
		}
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("redis type %s not read by the proof", typ)
	}
	sort.Strings(parts)
	return []byte(strings.Join(parts, "\n")), err
}

// dumpPostgres reads every row of every table in the proof's schema as JSON, one line a
// row, by table name.
func (d *deployment) dumpPostgres() map[string][]byte {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.pgURL)
	if err != nil {
		d.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, d.pgSchema)
	if err != nil {
		d.t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		d.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, tbl := range tables {
		id := pgx.Identifier{d.pgSchema, tbl}.Sanitize()
		rows, err := conn.Query(ctx, "SELECT row_to_json(t)::text FROM "+id+" t")
		if err != nil {
			d.t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			d.t.Fatal(err)
		}
		out[tbl] = []byte(strings.Join(lines, "\n"))
	}
	return out
}
