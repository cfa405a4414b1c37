package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db/dbtest"
	"plenary/library"
)

// choiceWorld is a co-op with demands and resources to choose among.
type choiceWorld struct {
	*app
	admin, member   user
	adminC, memberC *client
	demands         []int64 // proposed: "Demand A", "Demand B", "Demand C"
	withdrawn       int64
	resources       []int64 // listed, not endorsed: "Report A", "Report B", "Report C"
	endorsed        int64   // listed and endorsed
}

func newChoiceWorld(t *testing.T) *choiceWorld {
	t.Helper()
	a := newApp(t)
	ctx := context.Background()
	w := &choiceWorld{app: a}
	w.admin = a.addAdmin(t, "Ada Admin", "ada@example.org")
	w.member = a.addMember(t, w.admin, "Mo Member", "mo@example.org")
	w.adminC, w.memberC = a.client(), a.client()
	w.adminC.login(t, w.admin)
	w.memberC.login(t, w.member)
	av := library.Viewer{ID: w.admin.ID, Active: true, Admin: true}
	resource := func(title string) int64 {
		r, err := a.Lib.SubmitResource(ctx, av, library.ResourceInput{Title: title, URL: "https://example.org/" + url.PathEscape(title),
			Format: "report", Topics: "fixtures"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Lib.SetResourceStatus(ctx, av, r.ID, library.StatusListed); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	for _, title := range []string{"Report A", "Report B", "Report C"} {
		w.resources = append(w.resources, resource(title))
	}
	w.endorsed = resource("Report Endorsed")
	a.endorseBySQL(t, w.endorsed)
	for _, title := range []string{"Demand A", "Demand B", "Demand C", "Demand Withdrawn"} {
		d, err := a.Lib.DraftDemand(ctx, av, library.DemandInput{Title: title, Body: "Fund platform co-ops.", Audience: library.Audiences[0],
			Resources: strconv.FormatInt(w.resources[0], 10)})
		if err != nil {
			t.Fatal(err)
		}
		w.demands = append(w.demands, d.ID)
	}
	w.withdrawn, w.demands = w.demands[3], w.demands[:3]
	dbtest.ExecWithoutForeignKeys(t, a.DB, `UPDATE demands SET status = 'withdrawn' WHERE id = ?`, w.withdrawn)
	return w
}

func ids(ns ...int64) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// validChoice is a valid form for each kind.
func (w *choiceWorld) validChoice(kind string) url.Values {
	v := url.Values{"kind": {kind}, "title": {"Which first?"}, "body": {"Let us decide."}, "opens": {"now"}, "days": {"7"},
		"hours": {"0"}, "minutes": {"0"}}
	switch kind {
	case governance.KindPrioritise:
		v["demand_id"] = ids(w.demands[2], w.demands[0], w.demands[1])
		v.Set("method", governance.MethodSchulze)
	case governance.KindChoose:
		v["resource_id"] = ids(w.resources[1], w.resources[0])
		v.Set("method", governance.MethodApproval)
	case governance.KindElect:
		v.Set("office", "Board of directors")
		v.Set("seats", "1")
		v.Set("method", governance.MethodIRV)
		v.Set("member_id[0]", strconv.FormatInt(w.member.ID, 10))
		v.Set("statement[0]", "I will keep the books.")
		v.Set("label[1]", "") // an empty row between is ignored
		v.Set("label[2]", "Rosa Outsider")
		v.Set("statement[2]", "I know the sector.")
	case governance.KindPoll:
		v.Set("method", governance.MethodApproval)
		v.Set("label[0]", "Tuesday")
		v.Set("label[1]", "Thursday")
		v.Set("label[3]", "Saturday")
	}
	return v
}

func TestChoiceFormsCreateChoices(t *testing.T) {
	w := newChoiceWorld(t)
	want := map[string][]string{
		governance.KindPrioritise: {"Demand C", "Demand A", "Demand B"},
		governance.KindChoose:     {"Report B", "Report A"},
		governance.KindElect:      {"Mo Member", "Rosa Outsider"},
		governance.KindPoll:       {"Tuesday", "Thursday", "Saturday"},
	}
	for _, kind := range []string{governance.KindPrioritise, governance.KindChoose, governance.KindElect, governance.KindPoll} {
		t.Run(kind, func(t *testing.T) {
			page := "/proposals/new?kind=" + kind
			r := w.memberC.get(t, page)
			r.wantStatus(t, http.StatusOK)
			for _, id := range []string{`id="f-title"`, `id="f-method"`, `name="kind" value="` + kind + `"`, "Put it to the co-op"} {
				if !strings.Contains(r.Body, id) {
					t.Errorf("the %s form has no %s", kind, id)
				}
			}
			switch kind {
			case governance.KindPrioritise:
				r.wantText(t, "Demand A")
				if strings.Contains(r.Body, "Demand Withdrawn") || !strings.Contains(r.Body, fmt.Sprintf(`id="f-demand-%d"`, w.demands[0])) {
					t.Error("the demands listed are not the proposed and endorsed ones")
				}
			case governance.KindChoose:
				if strings.Contains(r.Body, "Report Endorsed") || !strings.Contains(r.Body, fmt.Sprintf(`id="f-resource-%d"`, w.resources[0])) {
					t.Error("the resources listed are not the listed, unendorsed ones")
				}
			case governance.KindElect:
				for _, id := range []string{`id="f-office"`, `id="f-seats"`, `id="f-member_id-5"`, `id="f-label-5"`, `id="f-statement-5"`} {
					if !strings.Contains(r.Body, id) {
						t.Errorf("the election form has no %s", id)
					}
				}
			case governance.KindPoll:
				if !strings.Contains(r.Body, `id="f-label-5"`) || strings.Contains(r.Body, `id="f-label-6"`) {
					t.Error("the poll form does not start with 6 rows")
				}
			}
			before := w.lastID(t, "proposals")
			r = w.memberC.submit(t, page, "/proposals/new", w.validChoice(kind))
			id := w.lastID(t, "proposals")
			if id == before {
				t.Fatalf("no proposal stored: %d\n%s", r.Status, errorsIn(r.Body))
			}
			r.wantRedirect(t, fmt.Sprintf("/proposals/%d", id))
			opts, err := w.Gov.Options(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range opts {
				got = append(got, o.Label)
			}
			if strings.Join(got, "|") != strings.Join(want[kind], "|") {
				t.Errorf("options %q, want %q", got, want[kind])
			}
		})
	}
}

func TestChoiceFormRefusesBadInput(t *testing.T) {
	w := newChoiceWorld(t)
	long := strings.Repeat("x", 10*1024)
	poll, prio, choose, elect := w.validChoice(governance.KindPoll), w.validChoice(governance.KindPrioritise),
		w.validChoice(governance.KindChoose), w.validChoice(governance.KindElect)
	set := func(v url.Values, pairs ...string) url.Values {
		v = clone(v)
		for i := 0; i+1 < len(pairs); i += 2 {
			v[pairs[i]] = strings.Split(pairs[i+1], "\x00")
		}
		return v
	}
	many := clone(poll)
	for i := range 51 {
		many.Set(fmt.Sprintf("label[%d]", i), fmt.Sprintf("Option %d", i))
	}
	d0, d1 := strconv.FormatInt(w.demands[0], 10), strconv.FormatInt(w.demands[1], 10)
	for _, tt := range []struct {
		name     string
		form     url.Values
		id, want string
	}{
		{"no options", set(poll, "label[0]", "", "label[1]", "", "label[3]", ""), "f-options", "Give between 2 and 50 options."},
		{"one option", set(poll, "label[1]", "", "label[3]", ""), "f-options", "Give between 2 and 50 options."},
		{"51 options", many, "f-options", "Give between 2 and 50 options."},
		{"the same option twice", set(poll, "label[3]", " tuesday "), "f-label-2", "This is option 1 again: give each option once."},
		{"a hostile label", set(poll, "label[1]", "Thursday\n<script>alert(1)</script>"), "f-label-1", "Keep this option to one line."},
		{"a 10 KB label", set(poll, "label[1]", long), "f-label-1", "Keep this option under 200 characters."},
		{"an unknown method", set(poll, "method", "borda"), "f-method", "Choose how the ballot is counted."},
		{"a method the rule does not allow", set(poll, "method", "stv"), "f-method", "This kind of proposal is counted by approval voting, or ranked, counted by the schulze method, or ranked, instant-runoff (one winner)."},
		{"seats on a poll", set(poll, "seats", "1"), "", "Only an election has seats to fill."},
		{"an office on a poll", set(poll, "office", "Board"), "", "Only an election has an office."},
		{"a demand on a poll", set(poll, "demand_id", d0), "f-options", "Poll takes no demand id: give its options in the fields shown."},
		{"max approvals above the options", set(poll, "max_approvals", "4"), "f-max_approvals", "There are only 3 options to tick."},
		{"max approvals not a number", set(poll, "max_approvals", "' OR 1=1--"), "f-max_approvals", "Enter the most options a member may approve, from 1 to 49, or leave it empty for any number."},
		{"the same demand twice", set(prio, "demand_id", d0+"\x00"+d1+"\x00"+d0), "f-demand-" + d0, "This is option 1 again: give each option once."},
		{"a withdrawn demand", set(prio, "demand_id", d0+"\x00"+strconv.FormatInt(w.withdrawn, 10)), "f-options",
			fmt.Sprintf("Demand %d is withdrawn: only proposed and endorsed demands can be prioritised.", w.withdrawn)},
		{"no such demand", set(prio, "demand_id", d0+"\x00"+"99999"), "f-options", "There is no demand number 99999."},
		{"an SQL demand", set(prio, "demand_id", d0+"\x00"+"1 OR 1=1"), "f-options", "Enter the demand's number, as shown on its page."},
		{"a label on priorities", set(prio, "label[0]", "<script>"), "f-options", "Prioritise demands takes no label: give its options in the fields shown."},
		{"irv on priorities", set(prio, "method", "irv"), "f-method", "This kind of proposal is counted by ranked, counted by the schulze method, or approval voting."},
		{"an endorsed resource", set(choose, "resource_id", strconv.FormatInt(w.endorsed, 10)+"\x00"+strconv.FormatInt(w.resources[0], 10)),
			fmt.Sprintf("f-resource-%d", w.endorsed), fmt.Sprintf("Resource %d is already endorsed.", w.endorsed)},
		{"schulze on resources", set(choose, "method", "schulze"), "f-method", "This kind of proposal is counted by approval voting."},
		{"seats >= candidates", set(elect, "seats", "2"), "f-seats", "With 2 candidates, at most 1 seats can be filled: the members must have a choice."},
		{"irv with 2 seats", set(elect, "seats", "2", "label[4]", "Third Person"), "f-method", "Instant-runoff elects one person: for more seats choose single transferable vote."},
		{"no office", set(elect, "office", " "), "f-office", "Name the office the members elect to, such as Board of directors."},
		{"no seats", set(elect, "seats", ""), "f-seats", "Say how many seats are to be filled."},
		{"no such member", set(elect, "member_id[0]", "99999"), "f-member_id-0", "There is no active member number 99999: a candidate who is a member must be active."},
		{"a hostile member", set(elect, "member_id[0]", "' OR 1=1--"), "f-member_id-0", "Enter the member's number, as shown on its page."},
		{"a 10 KB statement", set(elect, "statement[2]", long), "f-statement-1", "Keep the statement under 2000 characters."},
		{"a resource on an election", set(elect, "resource_id", strconv.FormatInt(w.resources[0], 10)), "f-options", "Elect takes no resource id: give its options in the fields shown."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := w.snapshot(t)
			r := w.memberC.submit(t, "/proposals/new?kind="+tt.form.Get("kind"), "/proposals/new", tt.form)
			r.wantStatus(t, http.StatusUnprocessableEntity)
			r.wantFieldError(t, tt.id, tt.want)
			if strings.Contains(r.Body, "<script>") {
				t.Error("the page echoes markup unescaped")
			}
			w.wantUnchanged(t, before)
		})
	}
}

func TestChoiceFormMoreRowsStoresNothing(t *testing.T) {
	w := newChoiceWorld(t)
	before := w.snapshot(t)
	v := w.validChoice(governance.KindPoll)
	v.Set("more", "1")
	r := w.memberC.submit(t, "/proposals/new?kind=poll", "/proposals/new", v)
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(r.Body, `id="f-label-11"`) || strings.Contains(r.Body, `id="f-label-12"`) {
		t.Error("More rows did not give 12 rows")
	}
	if !strings.Contains(r.Body, `value="Saturday"`) {
		t.Error("More rows lost what was typed")
	}
	w.wantUnchanged(t, before)
	// Up to 50 rows, no more.
	for range 10 {
		r = w.memberC.submit(t, "/proposals/new?kind=poll", "/proposals/new", v)
		if strings.Contains(r.Body, `id="f-label-50"`) {
			t.Fatal("more than 50 rows")
		}
	}
}

func TestChoiceFormSearchKeepsTicked(t *testing.T) {
	w := newChoiceWorld(t)
	r := w.memberC.get(t, fmt.Sprintf("/proposals/new?kind=choose_resources&q=%s&resource_id=%d", url.QueryEscape("report b"), w.resources[0]))
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(r.Body, fmt.Sprintf(`id="f-resource-%d"`, w.resources[1])) ||
		strings.Contains(r.Body, fmt.Sprintf(`id="f-resource-%d"`, w.resources[2])) {
		t.Error("the search does not narrow the list")
	}
	if !strings.Contains(r.Body, fmt.Sprintf(`value="%d" checked`, w.resources[0])) {
		t.Error("a ticked resource is lost in a search")
	}
	for _, q := range []string{"%", "_", `\`, "' OR 1=1--", "<script>", strings.Repeat("é", 3000)} {
		r := w.memberC.get(t, "/proposals/new?kind=choose_resources&q="+url.QueryEscape(q))
		r.wantStatus(t, http.StatusOK)
		if strings.Contains(r.Body, "<script>") {
			t.Error("the search echoes markup")
		}
	}
}

func TestChoiceRulesFormRefusesBadInput(t *testing.T) {
	w := newChoiceWorld(t)
	valid := url.Values{"kind": {governance.KindChoose}, "quorum_pct": {"10"}, "threshold": {"majority"}, "min_minutes": {"4320"},
		"reminder_hours": {"24"}, "methods": {"approval"}, "approval_pct": {"50"}}
	for _, tt := range []struct {
		set      []string
		id, want string
	}{
		{[]string{"methods", ""}, "f-choose_resources-methods", "Allow at least one method: the first is the default."},
		{[]string{"methods", "borda"}, "f-choose_resources-methods", "Choose among the methods listed."},
		{[]string{"methods", "<script>alert(1)</script>"}, "f-choose_resources-methods", "Choose among the methods listed."},
		{[]string{"methods", "schulze"}, "f-choose_resources-methods", "Ranked, counted by the Schulze method cannot count this kind of choice."},
		{[]string{"approval_pct", "0"}, "f-choose_resources-approval", "Enter a share between 1 and 99 per cent."},
		{[]string{"approval_pct", "100"}, "f-choose_resources-approval", "Enter a share between 1 and 99 per cent."},
		{[]string{"approval_pct", "abc"}, "f-choose_resources-approval", "Enter a share between 1 and 99 per cent."},
		{[]string{"approval_pct", "' OR 1=1--"}, "f-choose_resources-approval", "Enter a share between 1 and 99 per cent."},
	} {
		before := w.snapshot(t)
		v := with(valid, tt.set...)
		if tt.set[1] == "" {
			v.Del("methods")
		}
		r := w.adminC.submit(t, "/admin/rules", "/admin/rules", v)
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, tt.id, tt.want)
		if strings.Contains(r.Body, "<script>") {
			t.Error("the rules page echoes markup unescaped")
		}
		w.wantUnchanged(t, before)
	}
	v := with(valid, "kind", governance.KindPoll, "approval_pct", "")
	v["methods"] = []string{"schulze", "approval"}
	w.adminC.submit(t, "/admin/rules", "/admin/rules", v).wantRedirect(t, "/admin/rules")
	r := w.adminC.get(t, "/admin/rules")
	pollForm := r.Body[strings.Index(r.Body, `name="kind" value="poll"`):]
	pollForm = pollForm[:strings.Index(pollForm, "</form>")]
	if !strings.Contains(pollForm, `value="schulze" checked`) || strings.Contains(pollForm, `value="irv" checked`) ||
		strings.Index(pollForm, `value="schulze"`) > strings.Index(pollForm, `value="approval"`) {
		t.Error("the rules page does not show poll's methods as saved")
	}
	// The poll form now offers schulze first.
	r = w.memberC.get(t, "/proposals/new?kind=poll")
	if i, j := strings.Index(r.Body, `<option value="schulze"`), strings.Index(r.Body, `<option value="approval"`); i < 0 || j < i ||
		strings.Contains(r.Body, `<option value="irv"`) {
		t.Error("the poll form does not offer the methods the rule allows, the default first")
	}
}

// closeChoice puts a choice to the co-op, has every voter rank the options
// in the order given (ranks[i] is option i's rank), and lets it close.
func (w *choiceWorld) closeChoice(t *testing.T, in governance.ProposalInput, ranks ...string) governance.Proposal {
	t.Helper()
	ctx := context.Background()
	in.Opens, in.Days = "now", "7"
	p, err := w.Gov.Propose(ctx, w.admin.Member, in)
	if err != nil {
		t.Fatal(err)
	}
	ranked := map[int]string{}
	for i, r := range ranks {
		ranked[i] = r
	}
	for _, u := range []user{w.admin, w.member} {
		if _, err := w.Gov.VoteChoice(ctx, u.Member, p.ID, governance.ChoiceInput{Ranks: ranked}, ""); err != nil {
			t.Fatal(err)
		}
	}
	w.Clock.Advance(8 * 24 * time.Hour)
	if err := w.Gov.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPriorityListAndOfficersArePublic(t *testing.T) {
	w := newChoiceWorld(t)
	anon := w.client()
	r := anon.get(t, "/officers")
	r.wantStatus(t, http.StatusOK)
	r.wantText(t, "The co-op has not elected anyone yet.")
	if r := anon.get(t, "/demands"); strings.Contains(r.Body, `id="priorities"`) {
		t.Error("/demands shows a priority list before any ballot set one")
	}
	if r := anon.get(t, "/api/v1/priorities"); !strings.Contains(r.Body, `"data":[]`) || !strings.Contains(r.Body, `"proposal":null`) {
		t.Errorf("/api/v1/priorities with none: %s", r.Body)
	}
	if r := anon.get(t, "/api/v1/officers"); !strings.Contains(r.Body, `"data":[]`) {
		t.Errorf("/api/v1/officers with none: %s", r.Body)
	}

	d := w.demands
	prio := w.closeChoice(t, governance.ProposalInput{Kind: governance.KindPrioritise, Title: "Our <priorities>", Method: governance.MethodSchulze,
		Options: []governance.OptionInput{{DemandID: fmt.Sprint(d[0])}, {DemandID: fmt.Sprint(d[1])}, {DemandID: fmt.Sprint(d[2])}}},
		"2", "3", "1")
	elect := w.closeChoice(t, governance.ProposalInput{Kind: governance.KindElect, Title: "Board election", Method: governance.MethodIRV,
		Seats: "1", Office: "Board of directors", Options: []governance.OptionInput{{MemberID: fmt.Sprint(w.member.ID)}, {Label: "Rosa <b>Outsider</b>"}}},
		"2", "1")

	r = anon.get(t, "/demands")
	section := r.Body[strings.Index(r.Body, `id="priorities"`):]
	section = section[:strings.Index(section, "</section>")]
	if i, j, k := strings.Index(section, "Demand C"), strings.Index(section, "Demand A"), strings.Index(section, "Demand B"); i < 0 || !(i < j && j < k) {
		t.Errorf("the priority list is not C, A, B:\n%s", section)
	}
	if !strings.Contains(section, fmt.Sprintf(`href="/proposals/%d"`, prio.ID)) || !strings.Contains(section, escaped("Our <priorities>")) {
		t.Errorf("the priority list does not link the ballot that set it:\n%s", section)
	}
	r = anon.get(t, "/")
	if !strings.Contains(r.Body, `href="/demands#priorities"`) || !strings.Contains(r.Body, fmt.Sprintf(`href="/demands/%d"`, d[2])) {
		t.Error("the home page does not show the priorities")
	}
	r = anon.get(t, "/api/v1/priorities")
	if !strings.Contains(r.Body, fmt.Sprintf(`{"rank":1,"demand_id":%d,"title":"Demand C"`, d[2])) ||
		!strings.Contains(r.Body, fmt.Sprintf(`"proposal":{"id":%d`, prio.ID)) {
		t.Errorf("/api/v1/priorities: %s", r.Body)
	}

	r = anon.get(t, "/officers")
	r.wantStatus(t, http.StatusOK)
	r.wantText(t, "Board of directors")
	r.wantText(t, "Rosa <b>Outsider</b>")
	if !strings.Contains(r.Body, fmt.Sprintf(`href="/proposals/%d"`, elect.ID)) || strings.Contains(r.Body, "Mo Member") {
		t.Errorf("/officers does not show the one elected with the ballot behind it")
	}
	r = anon.get(t, "/api/v1/officers")
	if !strings.Contains(r.Body, `"office":"Board of directors","seat":1,"name":"Rosa \u003cb\u003eOutsider\u003c/b\u003e","member_id":null`) {
		t.Errorf("/api/v1/officers: %s", r.Body)
	}
	if !strings.Contains(anon.get(t, "/").Body, `href="/officers"`) {
		t.Error("the footer does not link the officers")
	}
}

// TestChoiceFormTakesHostileInput sends hostile values through every field
// of each kind's form, the rows' too (whose names injection_test.go's table
// cannot list): never a 500, never markup echoed, and a refusal changes
// nothing.
func TestChoiceFormTakesHostileInput(t *testing.T) {
	w := newChoiceWorld(t)
	payloads := []string{scriptTag, "' OR 1=1--", "1; DROP TABLE proposals", strings.Repeat("x", 10*1024), "\x00", "\xff\xfe",
		"-1", "99999999999999999999", "1e3", "../../etc/passwd", " "}
	fields := []string{"title", "body", "method", "seats", "max_approvals", "office", "opens", "opens_at", "days", "hours", "minutes",
		"label[0]", "member_id[0]", "statement[0]", "label[49]", "label[9999]", "demand_id", "resource_id", "more"}
	for _, kind := range choiceKindsForTest {
		for _, field := range fields {
			for _, p := range payloads {
				before := w.snapshot(t)
				v := w.validChoice(kind)
				v.Set(field, p)
				r := w.memberC.submit(t, "/proposals/new?kind="+kind, "/proposals/new", v)
				switch r.Status {
				case http.StatusSeeOther:
					continue // accepted as typed, like any text
				case http.StatusOK, http.StatusUnprocessableEntity:
				default:
					t.Errorf("%s %s=%q: status %d", kind, field, short(p), r.Status)
				}
				if strings.Contains(r.Body, scriptTag) {
					t.Errorf("%s %s: the page echoes markup unescaped", kind, field)
				}
				w.wantUnchanged(t, before)
			}
		}
	}
}

var choiceKindsForTest = []string{governance.KindPrioritise, governance.KindChoose, governance.KindElect, governance.KindPoll}
