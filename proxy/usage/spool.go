package usage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// SpoolFile is the spool's file name in the data directory: aggregates the store could
// not take yet (see Options.SpoolPath).
const SpoolFile = "usage-spool.json"

// spoolVersion is the version of the spool's format this build reads and writes.
const spoolVersion = 1

// spoolDoc is the spool file. It holds exactly what a Store holds, nothing more: UTC
// hours and days, tenant ids, client app policy names, route templates, status classes,
// cache outcomes, counts, estimates and random batch ids. No user id, hash, key or
// sketch has a field here.
type spoolDoc struct {
	Version    int          `json:"version"`
	Batches    []spoolBatch `json:"batches"`
	DailyUsers []spoolUsers `json:"daily_users"`
}

type spoolBatch struct {
	ID    string      `json:"id"`
	Cells []spoolCell `json:"cells"`
}

type spoolCell struct {
	Hour        time.Time         `json:"hour"`
	Tenant      string            `json:"tenant"`
	ClientApp   string            `json:"client_app"`
	Operation   string            `json:"operation"`
	StatusClass string            `json:"status_class"`
	Cache       string            `json:"cache"`
	Requests    int64             `json:"requests"`
	Latency     [NumBuckets]int64 `json:"latency"`
}

type spoolUsers struct {
	Day       time.Time `json:"day"`
	Tenant    string    `json:"tenant"`
	ClientApp string    `json:"client_app"`
	Users     int64     `json:"users"`
}

// writeSpool replaces the spool at path with batches and users atomically: a temporary
// file in the same directory (mode 0600), synced, then renamed over the spool.
func writeSpool(path string, batches []Batch, users []DailyUsers) error {
	doc := spoolDoc{Version: spoolVersion, Batches: []spoolBatch{}, DailyUsers: []spoolUsers{}}
	for _, b := range batches {
		sb := spoolBatch{ID: b.ID}
		for _, c := range b.Cells {
			sb.Cells = append(sb.Cells, spoolCell{Hour: c.Hour.UTC(), Tenant: c.Tenant, ClientApp: c.ClientApp,
				Operation: c.Operation, StatusClass: c.StatusClass, Cache: c.Cache, Requests: c.Requests, Latency: c.Latency})
		}
		doc.Batches = append(doc.Batches, sb)
	}
	for _, u := range users {
		doc.DailyUsers = append(doc.DailyUsers, spoolUsers{Day: dayOf(u.Day), Tenant: u.Tenant, ClientApp: u.ClientApp, Users: u.Users})
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("usage: spool: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("usage: spool: %w", err)
	}
	f, err := os.CreateTemp(dir, ".usage-spool-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("usage: spool: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("usage: spool: %w", err)
	}
	syncDir(dir)
	return nil
}

// removeSpool deletes the spool at path, if any.
func removeSpool(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("usage: spool: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename or removal in dir durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

var batchIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// readSpool reads the spool at path (none: nothing) and removes temporary files a crash
// left behind. An unreadable spool is renamed to path + ".unreadable" (it holds only
// aggregates; an operator may inspect it) and reported.
func readSpool(path string) ([]*pendingBatch, []DailyUsers, error) {
	if tmps, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".usage-spool-*.tmp")); err == nil {
		for _, t := range tmps {
			_ = os.Remove(t)
		}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("usage: spool: %w", err)
	}
	batches, users, err := decodeSpool(data)
	if err != nil {
		if rerr := os.Rename(path, path+".unreadable"); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, nil, fmt.Errorf("usage: spool: %w", err)
	}
	return batches, users, nil
}

// decodeSpool parses and checks a spool.
func decodeSpool(data []byte) ([]*pendingBatch, []DailyUsers, error) {
	var doc spoolDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	if doc.Version != spoolVersion {
		return nil, nil, fmt.Errorf("version %d, this build reads %d", doc.Version, spoolVersion)
	}
	var batches []*pendingBatch
	for _, sb := range doc.Batches {
		if !batchIDPattern.MatchString(sb.ID) {
			return nil, nil, errors.New("invalid batch id")
		}
		pb := &pendingBatch{id: sb.ID, cells: map[cellKey]*cellVal{}}
		for _, c := range sb.Cells {
			if c.Requests < 0 {
				return nil, nil, errors.New("negative count")
			}
			addCell(pb.cells, keyOf(Cell{Hour: c.Hour, Tenant: c.Tenant, ClientApp: c.ClientApp, Operation: c.Operation,
				StatusClass: c.StatusClass, Cache: c.Cache}), &cellVal{n: c.Requests, lat: c.Latency})
		}
		batches = append(batches, pb)
	}
	var users []DailyUsers
	for _, u := range doc.DailyUsers {
		users = append(users, DailyUsers{Day: dayOf(u.Day), Tenant: u.Tenant, ClientApp: u.ClientApp, Users: u.Users})
	}
	return batches, users, nil
}
