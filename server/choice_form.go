package server

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/tz"
	"plenary/library"
)

// The form that puts a choice among options to the co-op (issue 14):
// GET /proposals/new?kind=prioritise_demands|choose_resources|elect|poll,
// and POST /proposals/new with that kind, which propose hands over. The
// demands and resources are ticked from lists; candidates and poll options
// are typed in rows, label[N], member_id[N] and statement[N], of which the
// empty ones are ignored.

// ChoiceKinds are the kinds this form puts, in the order it is offered.
var choiceKinds = []string{governance.KindPrioritise, governance.KindChoose, governance.KindElect, governance.KindPoll}

const (
	// choiceRows is how many rows the elect and poll forms start with, and
	// how many "More rows" adds, up to governance.MaxOptions.
	choiceRows = 6
	// smallCoop: with at most this many active members, a proposer picks a
	// candidate who is a member from a list of their names. Members do not
	// know each other's numbers, and a co-op this small knows its members
	// by name; a name is all the list shows, to active members only, and
	// the ballot would show it anyway. A bigger co-op's list would be too
	// long to read, so the proposer types the member number instead (the
	// candidate's own account page, or an admin, gives it).
	smallCoop = governance.MembersPerPage
)

// rowKey matches a row's field: "label[3]".
var rowKey = regexp.MustCompile(`^(label|member_id|statement)\[(\d{1,4})\]$`)

// optionFields names the option fields each kind takes; the form refuses
// the others, so a field typed for one kind never silently vanishes.
var optionFields = map[string][]string{
	governance.KindPrioritise: {"demand_id"},
	governance.KindChoose:     {"resource_id"},
	governance.KindElect:      {"label", "member_id", "statement"},
	governance.KindPoll:       {"label"},
}

type choiceData struct {
	Kind        string
	KindNames   map[string]string
	Rule        governance.Rule
	MethodNames map[string]string
	Now         string
	// prioritise_demands and choose_resources: what may be ticked, what
	// is, and a message beside a ticked one.
	Demands       []library.Demand
	Resources     []library.Resource
	MoreResources bool   // the search found more than the list shows
	Q             string // the resource search
	Ticked        map[int64]bool
	TickedIDs     []int64 // in order, for the search form to keep
	TickErrors    map[int64]string
	// elect and poll: the rows, and the active members a candidate may be
	// picked from (nil: too many to list, a number is typed).
	Rows    []int
	Members []governance.Member
}

// choiceForm is a posted choice form as read: the proposal's input, the
// form to echo back, the ticked ids, and what the form itself refuses.
type choiceForm struct {
	in     governance.ProposalInput
	form   form
	ticked []int64
	rows   int
}

// showChoiceForm draws the empty form for a kind, starting voting now for
// the rule's shortest period. The yes/no form starts at 7 days (3 for a
// resource), which is those kinds' minimum; here the rule's own minimum
// says it for every kind, and is never refused.
func (s *Server) showChoiceForm(c *gin.Context, kind string) {
	rule, err := s.choiceRule(c, kind)
	if err != nil {
		s.fail(c, err)
		return
	}
	m := rule.MinMinutes
	f := form{Values: map[string]string{"kind": kind, "opens": "now", "days": strconv.Itoa(m / 1440),
		"hours": strconv.Itoa(m % 1440 / 60), "minutes": strconv.Itoa(m % 60), "method": firstOr(rule.AllowedMethods())}}
	var ticked []int64
	for _, raw := range c.QueryArray("resource_id") {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 && !slices.Contains(ticked, id) {
			ticked = append(ticked, id)
		}
	}
	s.renderChoice(c, http.StatusOK, f, c.Query("q"), ticked, choiceRows)
}

func firstOr(ms []string) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[0]
}

func (s *Server) choiceRule(c *gin.Context, kind string) (governance.Rule, error) {
	rules, err := s.gov.Rules(c.Request.Context())
	if err != nil {
		return governance.Rule{}, err
	}
	for _, r := range rules {
		if r.Kind == kind {
			return r, nil
		}
	}
	return governance.Rule{}, fmt.Errorf("server: no rule for %s", kind)
}

// renderChoice draws the form for f's kind with rows rows (elect, poll)
// and the resources matching q, ticked ones first.
func (s *Server) renderChoice(c *gin.Context, status int, f form, q string, ticked []int64, rows int) {
	ctx := c.Request.Context()
	kind := f.Values["kind"]
	rule, err := s.choiceRule(c, kind)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := choiceData{Kind: kind, KindNames: governance.KindNames, Rule: rule, MethodNames: governance.MethodNames,
		Now: tz.DateTime(s.cfg.Now().Add(24*time.Hour), s.zone(c)), Q: q, Ticked: map[int64]bool{}, TickedIDs: ticked,
		TickErrors: map[int64]string{}}
	for _, id := range ticked {
		d.Ticked[id] = true
	}
	for i := range rows {
		d.Rows = append(d.Rows, i)
	}
	switch kind {
	case governance.KindPrioritise:
		if d.Demands, err = s.lib.DemandsToPrioritise(ctx); err != nil {
			s.fail(c, err)
			return
		}
	case governance.KindChoose:
		// The ticked resources stay listed whatever the search, first.
		if d.Resources, err = s.lib.ResourcesByID(ctx, viewer(c), ticked); err != nil {
			s.fail(c, err)
			return
		}
		found, more, err := s.lib.ResourcesToChoose(ctx, q)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, r := range found {
			if !d.Ticked[r.ID] {
				d.Resources = append(d.Resources, r)
			}
		}
		d.MoreResources = more
	case governance.KindElect:
		// Any active member may stand, the proposer included.
		var err error
		if d.Members, err = s.activeMembers(ctx, 0); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.placeTickErrors(&d, f)
	s.render(c, status, "proposals/choice", view{Title: governance.KindNames[kind], Form: f, Data: d})
}

// placeTickErrors moves each ticked option's message ("option_i", the
// i-th ticked) beside its checkbox; one for an id the list does not show
// (withdrawn, endorsed, or no such thing) joins the message on the list.
func (s *Server) placeTickErrors(d *choiceData, f form) {
	if d.Kind != governance.KindPrioritise && d.Kind != governance.KindChoose {
		return
	}
	shown := map[int64]bool{}
	for _, dm := range d.Demands {
		shown[dm.ID] = true
	}
	for _, r := range d.Resources {
		shown[r.ID] = true
	}
	var elsewhere []string
	for i, id := range d.TickedIDs {
		msg, ok := f.Errors[governance.OptionKey(i)]
		switch {
		case !ok:
		case shown[id] && d.TickErrors[id] == "":
			d.TickErrors[id] = msg
		default:
			elsewhere = append(elsewhere, msg)
		}
	}
	if len(elsewhere) > 0 {
		f.Errors["options"] = strings.TrimSpace(f.Errors["options"] + " " + strings.Join(elsewhere, " "))
	}
}

// readChoiceForm reads a posted choice form. Rows are read in number
// order and the empty ones dropped, so option i is the i-th row filled and
// the form drawn again shows them as rows 0, 1, …
func (s *Server) readChoiceForm(c *gin.Context) (choiceForm, map[string]string) {
	kind := c.PostForm("kind")
	in := governance.ProposalInput{Kind: kind, Title: c.PostForm("title"), Body: c.PostForm("body"), Opens: c.PostForm("opens"),
		OpensAt: c.PostForm("opens_at"), Days: c.PostForm("days"), Hours: c.PostForm("hours"), Minutes: c.PostForm("minutes"),
		Zone: s.zone(c), Method: c.PostForm("method"), Seats: c.PostForm("seats"), MaxApprovals: c.PostForm("max_approvals"),
		Office: c.PostForm("office")}
	f := postedForm(c, "kind", "title", "body", "opens", "opens_at", "days", "hours", "minutes", "method", "seats",
		"max_approvals", "office")
	errs := map[string]string{}
	cf := choiceForm{in: in, form: f}

	// Fields of another kind's options are refused rather than dropped.
	posted := c.Request.PostForm
	family := func(key string) string {
		if m := rowKey.FindStringSubmatch(key); m != nil {
			return m[1]
		}
		return key
	}
	for key, vs := range posted {
		fam := family(key)
		if !slices.Contains([]string{"demand_id", "resource_id", "label", "member_id", "statement"}, fam) ||
			slices.Contains(optionFields[kind], fam) || strings.TrimSpace(strings.Join(vs, "")) == "" {
			continue
		}
		errs["options"] = fmt.Sprintf("%s takes no %s: give its options in the fields shown.", governance.KindNames[kind],
			strings.ReplaceAll(fam, "_", " "))
	}

	switch kind {
	case governance.KindPrioritise, governance.KindChoose:
		ticked := c.PostFormArray("demand_id")
		if kind == governance.KindChoose {
			ticked = c.PostFormArray("resource_id")
		}
		for _, raw := range ticked {
			o := governance.OptionInput{DemandID: raw}
			if kind == governance.KindChoose {
				o = governance.OptionInput{ResourceID: raw}
			}
			in.Options = append(in.Options, o)
			id, _ := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
			cf.ticked = append(cf.ticked, id)
		}
	default:
		rows := map[int]governance.OptionInput{}
		for key, vs := range posted {
			m := rowKey.FindStringSubmatch(key)
			if m == nil || len(vs) == 0 {
				continue
			}
			n, _ := strconv.Atoi(m[2])
			o := rows[n]
			switch m[1] {
			case "label":
				o.Label = vs[0]
			case "member_id":
				o.MemberID = vs[0]
			case "statement":
				o.Statement = vs[0]
			}
			rows[n] = o
		}
		ns := make([]int, 0, len(rows))
		for n := range rows {
			ns = append(ns, n)
		}
		sort.Ints(ns)
		for _, n := range ns {
			o := rows[n]
			if kind == governance.KindPoll {
				o.MemberID, o.Statement = "", ""
			}
			if strings.TrimSpace(o.Label+o.MemberID+o.Statement) == "" {
				continue
			}
			i := len(in.Options)
			f.Values[fmt.Sprintf("label[%d]", i)] = o.Label
			f.Values[fmt.Sprintf("member_id[%d]", i)] = o.MemberID
			f.Values[fmt.Sprintf("statement[%d]", i)] = o.Statement
			in.Options = append(in.Options, o)
		}
		cf.rows = max(choiceRows, len(in.Options))
	}
	cf.in = in
	return cf, errs
}

// proposeChoice is propose for a choice among options. "More rows" draws
// the form again with more rows, storing nothing.
func (s *Server) proposeChoice(c *gin.Context) {
	cf, errs := s.readChoiceForm(c)
	if c.PostForm("more") != "" {
		cf.form.Errors = map[string]string{}
		s.renderChoice(c, http.StatusOK, cf.form, "", cf.ticked, min(cf.rows+choiceRows, max(cf.rows, governance.MaxOptions)))
		return
	}
	var p governance.Proposal
	var err error
	if len(errs) > 0 {
		err = governance.ValidationError(errs)
	} else {
		p, err = s.gov.Propose(c.Request.Context(), *member(c), cf.in)
	}
	if v := errorsOf(err); v != nil {
		cf.form.Errors = map[string]string{}
		for k, msg := range v {
			k = rowErrorKey(cf.in, k)
			if hidden := cf.in.Kind != governance.KindElect && (k == "seats" || k == "office") ||
				cf.in.Kind == governance.KindElect && k == "max_approvals"; hidden {
				// The form draws no such field for this kind: the
				// message is about the form as a whole.
				k = ""
			}
			cf.form.Errors[k] = strings.TrimSpace(cf.form.Errors[k] + " " + msg)
		}
		s.renderChoice(c, http.StatusUnprocessableEntity, cf.form, "", cf.ticked, cf.rows)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.proposed(c, p)
}

// rowErrorKey is the form field a message keyed k by governance is drawn
// beside: option i's beside row i's name, or its member when one was
// picked, and its statement's beside the statement. The ticked kinds keep
// "option_i" (placeTickErrors places them).
func rowErrorKey(in governance.ProposalInput, k string) string {
	if in.Kind != governance.KindElect && in.Kind != governance.KindPoll {
		return k
	}
	for i, o := range in.Options {
		switch k {
		case governance.OptionKey(i) + "_statement":
			return fmt.Sprintf("statement[%d]", i)
		case governance.OptionKey(i):
			if strings.TrimSpace(o.MemberID) != "" {
				return fmt.Sprintf("member_id[%d]", i)
			}
			return fmt.Sprintf("label[%d]", i)
		}
	}
	return k
}
