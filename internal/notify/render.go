package notify

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"plenary/internal/mail"
	"plenary/internal/outbox"
	"plenary/internal/tz"
)

//go:embed templates
var templateFS embed.FS

// pages are each kind's templates: a text one defining "subject" and
// "text", and an HTML one (the layout and the kind's "body").
type pages struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

var kinds = []string{outbox.VotingOpened, outbox.ClosingSoon, outbox.Result, outbox.Application, outbox.Decision,
	outbox.PasswordReset, outbox.Invitation, outbox.Digest}

func parsePages() (*pages, error) {
	p := &pages{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	funcs := map[string]any{"lower": strings.ToLower}
	for _, k := range kinds {
		t, err := texttemplate.New(k).Funcs(funcs).ParseFS(templateFS, "templates/footer.txt", "templates/"+k+".txt")
		if err != nil {
			return nil, fmt.Errorf("notify: templates of %s: %w", k, err)
		}
		h, err := htmltemplate.New(k).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+k+".html")
		if err != nil {
			return nil, fmt.Errorf("notify: templates of %s: %w", k, err)
		}
		p.text[k], p.html[k] = t, h
	}
	return p, nil
}

// location is where a member's times are shown and their digest hour is
// counted. zone is an IANA name ("Europe/London"), "" or one no longer
// known for UTC: the member's own zone, or else the co-op's (Work fills
// it in).
func location(zone string) *time.Location { return tz.Load(zone) }

// localHour is the hour (0–23) it is at now for a member in zone.
func localHour(now time.Time, zone string) int { return now.In(location(zone)).Hour() }

// when says t in zone, naming the zone as its clocks do then, and by its
// place: "Saturday 28 March 2026, 09:00 UTC", "Monday 30 March 2026,
// 10:30 CEST (Europe/Paris)".
func when(t time.Time, zone string) string {
	loc := location(zone)
	s := t.In(loc).Format("Monday 2 January 2006, 15:04") + " " + tz.Abbrev(t, loc)
	if loc != time.UTC {
		s += " (" + loc.String() + ")"
	}
	return s
}

// view is what a message's templates are given.
type view struct {
	Coop    string
	To      string // the recipient's name, "" when unknown
	Kind    string
	Link    string // the page the message is about
	Account string // the recipient's account page, where they choose what they get
	// Unsubscribe is the one-click link that stops this kind (or, for a
	// digest, everything in it), "" for account messages.
	Unsubscribe string
	KindName    string
	When        string // a ballot's closing time, or a link's expiry, in the member's zone
	// Welcome marks an imported member's first link to set a password.
	Welcome bool

	Ballot      outbox.Ballot
	Application outbox.NewApplication
	Decision    outbox.ApplicationDecision
	Items       []digestLine
}

// digestLine is one message of a digest: its subject and its link.
type digestLine struct {
	Subject string
	Link    string
}

func (s *Sender) url(path string) string { return s.cfg.BaseURL + path }

// view builds it's view: its payload decoded, its links made.
func (s *Sender) view(it item) (view, error) {
	v := view{Coop: s.cfg.Name, Kind: it.Kind, Account: s.url("/account"), KindName: outbox.KindNames[it.Kind]}
	if it.Name != nil {
		v.To = *it.Name
	}
	if it.MemberID != nil && (outbox.IsChoosable(it.Kind) || it.Kind == outbox.Digest) {
		v.Unsubscribe = s.url("/unsubscribe/" + s.signer.Token(*it.MemberID, it.Kind))
	}
	var err error
	switch it.Kind {
	case outbox.VotingOpened, outbox.ClosingSoon, outbox.Result:
		err = json.Unmarshal([]byte(it.Payload), &v.Ballot)
		v.Link = s.url("/proposals/" + strconv.FormatInt(v.Ballot.Proposal, 10))
		v.When = when(v.Ballot.ClosesAt, it.Zone)
	case outbox.Application:
		err = json.Unmarshal([]byte(it.Payload), &v.Application)
		v.Link = s.url("/admin/members/" + strconv.FormatInt(v.Application.Applicant, 10))
	case outbox.Decision:
		err = json.Unmarshal([]byte(it.Payload), &v.Decision)
		v.Link = s.url("/login")
	case outbox.PasswordReset, outbox.Invitation:
		var l outbox.Link
		if err = json.Unmarshal([]byte(it.Payload), &l); err == nil && l.Token == "" {
			err = fmt.Errorf("the link's token is no longer kept")
		}
		path := "/reset/"
		if it.Kind == outbox.Invitation {
			path = "/invite/"
			if v.To == "" {
				v.To = l.Name
			}
		}
		v.Link, v.When, v.Welcome = s.url(path+l.Token), when(l.ExpiresAt, it.Zone), l.Welcome
	}
	if err != nil {
		return view{}, fmt.Errorf("payload of %s %d: %w", it.Kind, it.ID, err)
	}
	return v, nil
}

// render writes notification it as an email.
func (s *Sender) render(ctx context.Context, it item) (mail.Message, error) {
	v, err := s.view(it)
	if err != nil {
		return mail.Message{}, err
	}
	if it.Kind == outbox.Digest {
		if v.Items, err = s.digestLines(ctx, it); err != nil {
			return mail.Message{}, err
		}
	}
	subject, text, html, err := s.pages.write(it.Kind, v)
	if err != nil {
		return mail.Message{}, err
	}
	m := mail.Message{Subject: subject, Text: text, HTML: html, MessageID: it.MessageID, Unsubscribe: v.Unsubscribe}
	if it.MemberID != nil {
		m.To, m.ToName = *it.Email, v.To
	} else {
		m.To, m.ToName = *it.Address, v.To
	}
	return m, nil
}

// write runs kind's templates on v.
func (p *pages) write(kind string, v view) (subject, text, html string, err error) {
	var sb, tb, hb bytes.Buffer
	t := p.text[kind]
	if err = t.ExecuteTemplate(&sb, "subject", v); err != nil {
		return
	}
	if err = t.ExecuteTemplate(&tb, "text", v); err != nil {
		return
	}
	if err = p.html[kind].ExecuteTemplate(&hb, "layout", v); err != nil {
		return
	}
	// A subject is one line, whatever the template's spacing.
	return strings.Join(strings.Fields(sb.String()), " "), strings.TrimSpace(tb.String()) + "\n", hb.String(), nil
}

// subject is the subject kind's template gives v: a digest lists its
// messages by their subjects.
func (p *pages) subject(kind string, v view) (string, error) {
	var b bytes.Buffer
	if err := p.text[kind].ExecuteTemplate(&b, "subject", v); err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(b.String()), " "), nil
}
