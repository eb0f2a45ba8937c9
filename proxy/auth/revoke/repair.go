package revoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// putScript stores a revocation record unless its key already holds one with the same
// or a later cut-off, so that concurrent writers (a fresh logout, repairs by many
// instances, clocks that disagree) never lower a cut-off nor extend a TTL that is
// already set. It publishes the record when it stored it, or always when asked.
//
// KEYS[1] the key; ARGV[1] the record (JSON); ARGV[2] its cut-off in unix ms; ARGV[3]
// the TTL in ms; ARGV[4] "1" to publish even when not stored; ARGV[5] the channel.
// It answers {stored (0|1), receivers of the publication}.
var putScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and type(old['c']) == 'number' and old['c'] >= tonumber(ARGV[2]) then
    if ARGV[4] == '1' then
      return {0, redis.call('PUBLISH', ARGV[5], ARGV[1])}
    end
    return {0, 0}
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return {1, redis.call('PUBLISH', ARGV[5], ARGV[1])}
`)

// repairBatch is how many records one pipelined round trip writes back.
const repairBatch = 256

// recordJSON encodes rec as stored and published. Encoding cannot fail: a record holds
// only strings and integers.
func recordJSON(rec record) string {
	b, _ := json.Marshal(rec)
	return string(b)
}

// put runs putScript for rec with the given TTL (at least one millisecond) through c,
// and is the one place that lays out the script's arguments. Through a client it runs
// EVALSHA, and EVAL when Redis lacks the script; through a pipeline (redis.Pipeliner)
// it queues EVALSHA alone, so load the script first.
func (r *Redis) put(ctx context.Context, c redis.Scripter, rec record, ttl time.Duration, always bool) *redis.Cmd {
	flag := "0"
	if always {
		flag = "1"
	}
	keys := []string{r.keyPrefix + rec.Key}
	args := []any{recordJSON(rec), rec.CutOff, max(ttl.Milliseconds(), 1), flag, r.channel}
	if _, ok := c.(redis.Pipeliner); ok {
		return putScript.EvalSha(ctx, c, keys, args...)
	}
	return putScript.Run(ctx, c, keys, args...)
}

// putAnswer reads putScript's answer: whether it stored the record, and how many
// subscribers the publication reached. A refusal of the script is a scriptsRefusedError.
func putAnswer(cmd *redis.Cmd) (stored bool, receivers int64, err error) {
	res, err := cmd.Result()
	if err != nil {
		return false, 0, scriptErr(err)
	}
	if a, ok := res.([]any); ok && len(a) == 2 {
		s, ok1 := a[0].(int64)
		n, ok2 := a[1].(int64)
		if ok1 && ok2 {
			return s == 1, n, nil
		}
	}
	return false, 0, fmt.Errorf("unexpected answer %T from the revocation script", res)
}

// repair writes back every live revocation of the mirror that Redis lacks or holds with
// an earlier cut-off (loaded: the cut-offs, in unix ms by key, that the sync just read),
// with what remains of its TTL, and publishes those it wrote. It returns how many it
// wrote; instances repairing at once write each record only once between them.
func (r *Redis) repair(ctx context.Context, loaded map[string]int64) (int, error) {
	now := r.cfg.Now()
	var todo []record
	for key, e := range r.mir.live(now) {
		if e.tenant != "" && loaded[key] < e.cutOff.UnixMilli() {
			todo = append(todo, record{Op: "revoke", Tenant: e.tenant, Key: key, CutOff: e.cutOff.UnixMilli(),
				Expires: e.expires.UnixMilli(), Origin: r.instance})
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
	err := scriptErr(putScript.Load(cctx, r.client).Err())
	cancel()
	if err != nil {
		return 0, fmt.Errorf("load the revocation script: %w", err)
	}
	written := 0
	for start := 0; start < len(todo); start += repairBatch {
		batch := todo[start:min(start+repairBatch, len(todo))]
		cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
		cmds, err := r.client.Pipelined(cctx, func(p redis.Pipeliner) error {
			for _, rec := range batch {
				r.put(cctx, p, rec, time.UnixMilli(rec.Expires).Sub(now), false)
			}
			return nil
		})
		cancel()
		err = scriptErr(err)
		for _, c := range cmds {
			stored, _, cerr := putAnswer(c.(*redis.Cmd))
			if stored {
				written++
			} else if err == nil {
				err = cerr
			}
		}
		if err != nil {
			return written, fmt.Errorf("write back revocations: %w", err)
		}
	}
	return written, nil
}

// errAwaitRepair says that Redis does not vouch for its list and this instance, which
// never held it, is waiting for the running instances to repair it.
var errAwaitRepair = errors.New("the shared revocation list in redis is not marked complete " +
	"(a first start, or redis restarted without persistence): waiting for running instances to write back what they hold")

// settle decides, after a sync that found the list's marker missing, whether the list
// may be trusted, and marks it complete when so. An instance that has held the list
// has just repaired it from its mirror: it marks it at once. Any other instance waits
// RepairWait, and while instances that held the list are subscribed up to
// ResyncInterval, for them to do so; it returns errAwaitRepair meanwhile.
func (r *Redis) settle(ctx context.Context) error {
	if !r.holder.Load() {
		r.mu.Lock()
		if r.lostSince.IsZero() {
			r.lostSince = time.Now()
		}
		waited := time.Since(r.lostSince)
		r.mu.Unlock()
		if waited < r.rc.RepairWait {
			return errAwaitRepair
		}
		cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
		subs, err := r.client.PubSubNumSub(cctx, r.holders).Result()
		cancel()
		if err != nil {
			return fmt.Errorf("count the instances holding the list: %w", err)
		}
		if subs[r.holders] > 0 && waited < max(r.rc.RepairWait, r.rc.ResyncInterval) {
			return errAwaitRepair
		}
	}
	cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
	set, err := r.client.SetNX(cctx, r.listKey, strconv.FormatInt(time.Now().UnixMilli(), 10), 0).Result()
	cancel()
	if err != nil {
		return fmt.Errorf("mark the list complete: %w", err)
	}
	if set {
		r.cfg.Logger.Info("shared revocation list marked complete",
			"from_mirror", r.holder.Load(), "known", r.mir.len())
	}
	return nil
}
