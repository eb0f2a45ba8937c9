package proxy

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/privacy"
)

// exportDoc is a data subject's export: everything graphgate processes about the caller.
type exportDoc struct {
	Kind        string         `json:"kind"`
	GeneratedAt string         `json:"generated_at"`
	Statement   string         `json:"statement"`
	Subject     exportSubject  `json:"subject"`
	Profile     map[string]any `json:"profile"`
	ProfileNote string         `json:"profile_note"`
	// Processed lists every field graphgate fetches about the caller; Withheld those whose
	// values the calling app may not see (names only, never values).
	Processed  []string       `json:"fields_processed"`
	Withheld   []string       `json:"fields_withheld_from_this_app"`
	Photo      *exportPhoto   `json:"photo,omitempty"`
	Presence   map[string]any `json:"presence,omitempty"`
	ClientApps []exportApp    `json:"client_apps"`
	CallingApp string         `json:"calling_client_app"`
	Revocation exportRevoke   `json:"revocation"`
	Usage      string         `json:"usage"`
	Logs       string         `json:"logs"`
	Notice     string         `json:"record_of_processing"`
}

type exportSubject struct {
	TenantID string `json:"tenant_id"`
	ObjectID string `json:"object_id"`
}

type exportPhoto struct {
	ContentType string `json:"content_type"`
	DataBase64  string `json:"data_base64,omitempty"`
	Note        string `json:"note"`
}

type exportApp struct {
	Name              string             `json:"name"`
	Purpose           string             `json:"purpose"`
	Operations        []policy.Operation `json:"operations"`
	SeesWhenYouUseIt  []string           `json:"sees_of_you_when_you_use_it"`
	SeesWhenOthersUse []string           `json:"sees_of_you_when_colleagues_use_it"`
}

type exportRevoke struct {
	Status string `json:"status"` // "none", "active", "unknown", "not available"
	Note   string `json:"note"`
}

// exportStatement is the export's promise; the proof test holds graphgate to it.
const exportStatement = "This is everything graphgate processes about you. graphgate stores none of it: " +
	"the profile, photo and presence below were fetched from Microsoft Graph for this export (or taken " +
	"from the short-lived memory cache) and are not kept beyond the cache lifetime. Apart from anonymised " +
	"usage counts and, if an administrator logged you out, a keyed-hash revocation marker, nothing else " +
	"about you is stored."

// handleExport serves GET /privacy/v1/me/export for a signed-in user: a JSON download of
// everything graphgate processes about the caller (right of access and portability).
// Values are subject to the calling app's policy like every other response: the profile
// holds the fields the app may see of its own user, and the fields graphgate processes
// beyond those are named (never shown), so the export is complete without letting an
// app read more through it than through /me.
func handleExport(dir *directory.Directory, notice *privacy.Notice, marks revocationMarks) gin.HandlerFunc {
	return func(c *gin.Context) {
		sc := scopeOf(c)
		ctx := c.Request.Context()
		p := sc.principal
		u, outcome, err := dir.User(ctx, p.TenantID, p.ObjectID)
		sc.setOutcome(outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		visible := sc.client.Visible(true)
		doc := exportDoc{
			Kind:        "graphgate data subject export",
			GeneratedAt: time.Now().UTC().Format(time.RFC3339),
			Statement:   exportStatement,
			Subject:     exportSubject{TenantID: p.TenantID, ObjectID: p.ObjectID},
			Profile:     project(u, visible),
			ProfileNote: "Your directory record as graphgate fetches it from Microsoft Graph, limited to the fields the app " +
				"you exported with may see. graphgate also processes the fields listed as withheld (their values are shown " +
				"only to apps allowed to see them) and uses accountEnabled and signInSessionsValidFromDateTime internally " +
				"(accountEnabled is answered true to any app that selects it: graphgate serves enabled accounts only).",
			Processed:  dir.Fields(),
			Withheld:   withheldFrom(dir.Fields(), visible),
			CallingApp: sc.client.Name,
			Revocation: marks.of(p.TenantID, p.ObjectID),
			Usage: "Your requests are counted only in anonymised aggregates (per hour, client app and operation), " +
				"never per person; a daily keyed hash of your id is held in memory only to count distinct users.",
			Logs:   notice.Logs,
			Notice: "GET /privacy",
		}
		for _, app := range notice.ClientApps {
			doc.ClientApps = append(doc.ClientApps, exportApp{Name: app.Name, Purpose: app.Purpose,
				Operations: app.Operations, SeesWhenYouUseIt: app.SelfFields, SeesWhenOthersUse: app.OtherFields})
		}
		if sc.client.Allows(policy.OpPhotoRead) {
			doc.Photo = exportPhotoOf(c, dir)
		}
		if sc.client.Allows(policy.OpPresenceRead) {
			doc.Presence = exportPresence(ctx, dir, p.TenantID, p.ObjectID)
		}
		c.Header("Content-Disposition", `attachment; filename="graphgate-export.json"`)
		c.IndentedJSON(http.StatusOK, doc)
	}
}

// withheldFrom lists the fields of all that are not in visible.
func withheldFrom(all, visible []string) []string {
	var out []string
	for _, f := range all {
		if !slices.ContainsFunc(visible, func(v string) bool { return strings.EqualFold(v, f) }) {
			out = append(out, f)
		}
	}
	return out
}

// exportPhotoOf returns the caller's photo as client apps get it.
func exportPhotoOf(c *gin.Context, dir *directory.Directory) *exportPhoto {
	p, err := photoOf(c, dir, scopeOf(c).principal.ObjectID, "")
	switch {
	case err == nil:
		return &exportPhoto{ContentType: p.ContentType, DataBase64: base64.StdEncoding.EncodeToString(p.Data),
			Note: "Your profile photo as stored in Microsoft 365; graphgate caches it briefly in memory."}
	case errors.Is(err, directory.ErrNoPhoto), errors.Is(err, directory.ErrNotFound):
		return &exportPhoto{Note: "You have no profile photo in Microsoft 365."}
	default:
		return &exportPhoto{Note: "Your photo could not be fetched from Microsoft Graph right now."}
	}
}

// exportPresence returns the caller's current presence as client apps get it.
func exportPresence(ctx context.Context, dir *directory.Directory, tenantID, userID string) map[string]any {
	p, _, err := dir.Presence(ctx, tenantID, userID)
	if err != nil {
		return map[string]any{"note": "Your presence could not be fetched from Microsoft Graph right now."}
	}
	return presenceBody(p)
}

// revocationMarks tells the export whether a revocation marker is held for a user.
type revocationMarks struct {
	// held reports a marker; known is false when the store cannot tell right now, and
	// available false when the deployment cannot tell at all. nil: not available.
	held func(tenantID, userID string) (held, known bool)
	// lifetime is how long a marker is kept.
	lifetime time.Duration
}

// heldReporter is what the export needs of the revocation list. *revoke.Memory and
// *revoke.Redis implement it.
type heldReporter interface {
	Held(tenantID, userID string) bool
}

// exportRevocations is the export's view of the configured revocation list:
// Privacy.RevocationHeld if set, else the list itself when it can tell.
func exportRevocations(cfg Config) revocationMarks {
	m := revocationMarks{held: cfg.Privacy.RevocationHeld, lifetime: cfg.Privacy.WithDefaults().RevocationLifetime}
	if m.held != nil {
		return m
	}
	h, ok := cfg.Revocations.(heldReporter)
	if !ok {
		return m
	}
	ready, _ := cfg.Revocations.(interface{ Ready() error })
	m.held = func(tenantID, userID string) (bool, bool) {
		known := ready == nil || ready.Ready() == nil
		return h.Held(tenantID, userID), known
	}
	return m
}

// of reports the marker state of a user for the export.
func (m revocationMarks) of(tenantID, userID string) exportRevoke {
	if m.held == nil {
		return exportRevoke{Status: "not available", Note: "This deployment does not report revocation markers."}
	}
	held, known := m.held(tenantID, userID)
	switch {
	case !known:
		return exportRevoke{Status: "unknown", Note: "The revocation list cannot be read right now."}
	case held:
		return exportRevoke{Status: "active", Note: "An administrator logged you out: tokens issued before the cut-off are " +
			"refused. The marker is a keyed hash of your id and is deleted automatically after " +
			privacy.HumanDuration(m.lifetime) + "."}
	default:
		return exportRevoke{Status: "none", Note: "No revocation marker is held for you."}
	}
}
