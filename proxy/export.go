package proxy

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/policy"
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
func (s *Server) handleExport() gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := callerOf(c)
		ctx := c.Request.Context()
		u, outcome, err := s.loadUser(ctx, cl.tenant, cl.principal.ObjectID)
		setOutcome(c, outcome)
		if err != nil {
			abortWithError(c, err)
			return
		}
		doc := exportDoc{
			Kind:        "graphgate data subject export",
			GeneratedAt: time.Now().UTC().Format(time.RFC3339),
			Statement:   exportStatement,
			Subject:     exportSubject{TenantID: cl.principal.TenantID, ObjectID: cl.principal.ObjectID},
			Profile:     project(u, cl.client.Visible(true)),
			ProfileNote: "Your directory record as graphgate fetches it from Microsoft Graph, limited to the fields the app " +
				"you exported with may see. graphgate also processes the fields listed as withheld (their values are shown " +
				"only to apps allowed to see them) and uses accountEnabled and signInSessionsValidFromDateTime internally.",
			Processed:  s.fields,
			Withheld:   withheldFrom(s.fields, cl.client.Visible(true)),
			CallingApp: cl.client.Name,
			Revocation: s.revocationOf(cl),
			Usage: "Your requests are counted only in anonymised aggregates (per hour, client app and operation), " +
				"never per person; a daily keyed hash of your id is held in memory only to count distinct users.",
			Logs:   s.notice.Logs,
			Notice: "GET /privacy",
		}
		for _, app := range s.notice.ClientApps {
			doc.ClientApps = append(doc.ClientApps, exportApp{Name: app.Name, Purpose: app.Purpose,
				Operations: app.Operations, SeesWhenYouUseIt: app.SelfFields, SeesWhenOthersUse: app.OtherFields})
		}
		if cl.client.Allows(policy.OpPhotoRead) {
			doc.Photo = s.exportPhoto(c, cl)
		}
		if cl.client.Allows(policy.OpPresenceRead) {
			doc.Presence = s.exportPresence(ctx, cl)
		}
		c.Header("Content-Disposition", `attachment; filename="graphgate-export.json"`)
		c.IndentedJSON(http.StatusOK, doc)
	}
}

// withheldFrom lists the fields of all that are not in visible.
func withheldFrom(all, visible []string) []string {
	var out []string
	for _, f := range all {
		if !containsFold(visible, f) {
			out = append(out, f)
		}
	}
	return out
}

// exportPhoto returns the caller's photo as client apps get it.
func (s *Server) exportPhoto(c *gin.Context, cl caller) *exportPhoto {
	p, err := s.photoOf(c, cl, "")
	var ae *apiError
	switch {
	case err == nil:
		return &exportPhoto{ContentType: p.ContentType, DataBase64: base64.StdEncoding.EncodeToString(p.Data),
			Note: "Your profile photo as stored in Microsoft 365; graphgate caches it briefly in memory."}
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return &exportPhoto{Note: "You have no profile photo in Microsoft 365."}
	default:
		return &exportPhoto{Note: "Your photo could not be fetched from Microsoft Graph right now."}
	}
}

// exportPresence returns the caller's current presence as client apps get it.
func (s *Server) exportPresence(ctx context.Context, cl caller) map[string]any {
	id := cl.principal.ObjectID
	key := cache.Key{Kind: kindPresence, ID: strings.ToLower(id)}
	e, _, err := s.load(ctx, cl.tenant, key, errNotFound(), func(ctx context.Context) (cache.Item[entry], error) {
		p, err := cl.tenant.up.Presence(ctx, id)
		if err != nil {
			return cache.Item[entry]{}, err
		}
		return cache.Item[entry]{Value: entry{presence: p}, Size: 128, Users: []string{id}}, nil
	})
	if err != nil {
		return map[string]any{"note": "Your presence could not be fetched from Microsoft Graph right now."}
	}
	return presenceBody(e.presence)
}

// revocationOf reports whether a revocation marker is held for the caller.
func (s *Server) revocationOf(cl caller) exportRevoke {
	held, known, available := s.revocationHeld(cl.principal.TenantID, cl.principal.ObjectID)
	switch {
	case !available:
		return exportRevoke{Status: "not available", Note: "This deployment does not report revocation markers."}
	case !known:
		return exportRevoke{Status: "unknown", Note: "The revocation list cannot be read right now."}
	case held:
		return exportRevoke{Status: "active", Note: "An administrator logged you out: tokens issued before the cut-off are " +
			"refused. The marker is a keyed hash of your id and is deleted automatically after " +
			humanDuration(s.cfg.Privacy.withDefaults().RevocationLifetime) + "."}
	default:
		return exportRevoke{Status: "none", Note: "No revocation marker is held for you."}
	}
}

// heldReporter is what the export needs of the revocation list. *revoke.Memory and
// *revoke.Redis implement it.
type heldReporter interface {
	Held(tenantID, userID string) bool
}

// revocationHeld asks PrivacyConfig.RevocationHeld, else the revocation list itself.
// known is false while a shared list is not current; available is false when neither
// can tell.
func (s *Server) revocationHeld(tenantID, userID string) (held, known, available bool) {
	if f := s.cfg.Privacy.RevocationHeld; f != nil {
		held, known = f(tenantID, userID)
		return held, known, true
	}
	h, ok := s.cfg.Revocations.(heldReporter)
	if !ok {
		return false, false, false
	}
	known = true
	if r, ok := s.cfg.Revocations.(interface{ Ready() error }); ok && r.Ready() != nil {
		known = false
	}
	return h.Held(tenantID, userID), known, true
}
