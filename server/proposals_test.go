package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"plenary/governance"
	"plenary/library"
)

func TestAProposalPageShowsItsSubject(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	ctx := context.Background()

	t.Run("a decided demand is shown with a receipt check as long as a receipt may be", func(t *testing.T) {
		p := co.putProposal(t, co.members[0], endorsing(co.putDemand(t, co.members[0], "Procure from co-ops")))
		co.as(t, co.members[1]).castSecretVote(t, p.ID, "yes")
		co.passClose(p)
		res := co.client().get(t, proposalPage(p.ID))
		res.wantStatus(t, http.StatusOK)
		res.wantText(t, "Procure from co-ops")
		if want := fmt.Sprintf(`name="receipt" type="text" value="" autocomplete="off" maxlength="%d"`, governance.MaxReceiptLen); !strings.Contains(res.Body, want) {
			t.Errorf("the receipt check is not drawn as %s:\n%s", want, excerpt(res.Body))
		}
	})

	t.Run("a resource hidden since is left out for those who may not see it, and the page still shows", func(t *testing.T) {
		admin := library.Viewer{ID: co.admin.ID, Active: true, Admin: true}
		r, err := co.Lib.SubmitResource(ctx, admin, library.ResourceInput{Title: "A toolkit for co-op finance",
			URL: "https://example.org/toolkit", Format: "toolkit", Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if err := co.Lib.SetResourceStatus(ctx, admin, r.ID, library.StatusListed); err != nil {
			t.Fatal(err)
		}
		p := co.putProposal(t, co.members[0], governance.ProposalInput{Kind: governance.KindEndorseResource,
			Title: "Endorse the toolkit", ResourceID: strconv.FormatInt(r.ID, 10), Opens: "now", Days: "3"})
		co.passClose(p)
		co.client().get(t, proposalPage(p.ID)).wantText(t, "A toolkit for co-op finance")
		if err := co.Lib.SetResourceStatus(ctx, admin, r.ID, library.StatusHidden); err != nil {
			t.Fatal(err)
		}

		public := co.client().get(t, proposalPage(p.ID))
		public.wantStatus(t, http.StatusOK)
		public.wantText(t, "Endorse the toolkit")
		if strings.Contains(public.Body, "A toolkit for co-op finance") {
			t.Error("the public sees a hidden resource on the proposal's page")
		}
		co.as(t, co.admin).get(t, proposalPage(p.ID)).wantText(t, "A toolkit for co-op finance")
	})
}
