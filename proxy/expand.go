package proxy

import (
	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// expandManager adds to body, the answer about user u, the management chain that q's
// $expand=manager(...) asks for, as Graph nests it: "manager" holds u's manager, whose
// "manager" holds the next one, each with "@odata.type"
// (https://learn.microsoft.com/graph/api/user-list-manager). Each manager is shown as
// /manager shows it (operation manager.read, the nested $select); the chain stops before
// a deactivated manager, as /manager treats one as none. A client app without
// manager.read gets no "manager", reported as withheld. $levels without
// ConsistencyLevel: eventual is refused, as Graph refuses it. Without $expand it does
// nothing.
func expandManager(c *gin.Context, dir *directory.Directory, dec *decider, q odata.Query, u graph.User, body map[string]any) error {
	if q.Expand == nil {
		return nil
	}
	if err := q.ForUser(odata.Eventual(c.GetHeader(odata.ConsistencyLevelHeader))); err != nil {
		return err
	}
	sc := scopeOf(c)
	if !sc.client.Allows(policy.OpManagerRead) {
		noteWithheld(c, []string{"manager"})
		return nil
	}
	chain, outcome, err := dir.ManagerChain(c.Request.Context(), sc.tenantID(), u.ID(), q.Expand.Levels)
	if outcome == cache.OutcomeMiss {
		sc.setOutcome(outcome) // the request needed Graph, whatever its main read did
	}
	if err != nil {
		return err
	}
	mq := q.Expand.Query()
	noteWithheld(c, mq.Unserved)
	parent := body
	for _, m := range chain {
		d := dec.decide(c, policy.OpManagerRead, m, mq)
		item := project(m, d.Fields)
		item["@odata.type"] = userType
		parent["manager"] = item
		parent = item
	}
	return nil
}
