package ledger

// Entry kinds.
const (
	KindFounded           = "member.founded"
	KindAdmitted          = "member.admitted"
	KindRejected          = "member.rejected"
	KindSuspended         = "member.suspended"
	KindReinstated        = "member.reinstated"
	KindRoleChanged       = "member.role_changed"
	KindLeft              = "member.left"
	KindErased            = "member.erased"
	KindResetIssued       = "member.reset_issued"
	KindPasswordReset     = "member.password_reset"
	KindInvitationCreated = "invitation.created"
	KindInvitationRevoked = "invitation.revoked"
	KindSettingChanged    = "setting.changed"

	KindRulesChanged  = "rules.changed"
	KindProposed      = "proposal.submitted"
	KindWithdrawn     = "proposal.withdrawn"
	KindCancelled     = "proposal.cancelled"
	KindBallotOpened  = "ballot.opened"
	KindBallotClosed  = "ballot.closed"
	KindEffectApplied = "effect.applied"
	KindEffectSkipped = "effect.skipped"

	KindResourceListed   = "resource.listed"
	KindResourceHidden   = "resource.hidden"
	KindResourceReturned = "resource.returned" // to the pending queue
	KindResourceEdited   = "resource.edited"
	KindDemandEdited     = "demand.edited"
	KindDigestRecorded   = "endorsement.digest_recorded"

	// General meetings and absent members (version 9).
	KindProxyAppointed  = "proxy.appointed"
	KindProxyRevoked    = "proxy.revoked"
	KindRecused         = "ballot.recusal"
	KindMeetingCalled   = "meeting.called"
	KindMeetingItem     = "meeting.item_added"
	KindMeetingRegister = "meeting.register_frozen"
	KindMeetingClosed   = "meeting.closed"
)

// Every struct below declares its fields in the sorted order of their JSON
// keys: that order is the canonical JSON (see the package comment). By is
// the member number of who acted; 0 is the operator at the command line.

// Founded: the co-op's first admin.
type Founded struct {
	Member int64 `json:"member"`
}

func (Founded) Kind() string { return KindFounded }

// Admitted: a member admitted by an admin, the operator (By 0) or an
// invitation.
type Admitted struct {
	By         int64 `json:"by"`
	Invitation int64 `json:"invitation,omitempty"`
	Member     int64 `json:"member"`
}

func (Admitted) Kind() string { return KindAdmitted }

// MemberDecision is an admin's decision about a member that needs no more
// than who and whom: rejected, suspended, reinstated, left, erased, a
// password-reset link issued. Event is the entry's kind.
type MemberDecision struct {
	Event  string `json:"-"`
	By     int64  `json:"by"`
	Member int64  `json:"member"`
}

func (e MemberDecision) Kind() string { return e.Event }

// RoleChanged: a member made admin or member.
type RoleChanged struct {
	By     int64  `json:"by"`
	Member int64  `json:"member"`
	Role   string `json:"role"`
}

func (RoleChanged) Kind() string { return KindRoleChanged }

// PasswordReset: a member reset their own password with a link.
type PasswordReset struct {
	Member int64 `json:"member"`
}

func (PasswordReset) Kind() string { return KindPasswordReset }

// InvitationCreated: an admin made an invitation link. Role is set only
// when the invitation makes an admin.
type InvitationCreated struct {
	By         int64  `json:"by"`
	ExpiresAt  string `json:"expires_at"`
	Invitation int64  `json:"invitation"`
	Role       string `json:"role,omitempty"`
}

func (InvitationCreated) Kind() string { return KindInvitationCreated }

// InvitationRevoked: an admin revoked one.
type InvitationRevoked struct {
	By         int64 `json:"by"`
	Invitation int64 `json:"invitation"`
}

func (InvitationRevoked) Kind() string { return KindInvitationRevoked }

// SettingChanged: an admin set one of the co-op's settings (its default
// time zone).
type SettingChanged struct {
	By      int64  `json:"by"`
	Setting string `json:"setting"`
	Value   string `json:"value"`
}

func (SettingChanged) Kind() string { return KindSettingChanged }

// RulesChanged: an admin set the rules for a kind of proposal.
// ReminderHours came with version 6: entries before it have none. Methods
// (the allowed counting methods, default first, comma separated) and
// ApprovalPct (choose_resources' threshold) came with version 8, for the
// choice kinds only.
//
// ProxyCap, EarlyClose and QuorumOn came with version 9, written when they
// differ from the defaults (no proxies, no early close, quorum on the roll).
type RulesChanged struct {
	ApprovalPct   *int   `json:"approval_pct,omitempty"`
	By            int64  `json:"by"`
	EarlyClose    bool   `json:"early_close,omitempty"`
	ProposalKind  string `json:"kind"`
	Methods       string `json:"methods,omitempty"`
	MinMinutes    int    `json:"min_minutes"`
	ProxyCap      int    `json:"proxy_cap,omitempty"`
	QuorumOn      string `json:"quorum_on,omitempty"`
	QuorumPct     int    `json:"quorum_pct"`
	ReminderHours *int   `json:"reminder_hours,omitempty"`
	Secret        bool   `json:"secret"`
	Threshold     string `json:"threshold"`
}

func (RulesChanged) Kind() string { return KindRulesChanged }

// Proposed: a proposal submitted, with what it is about.
//
// A choice among options (version 8) also gives its method and the
// digest of its options (governance's optionsDigest): entries before it,
// and yes/no proposals, have neither.
type Proposed struct {
	By           int64  `json:"by"`
	ClosesAt     string `json:"closes_at"`
	Demand       *int64 `json:"demand,omitempty"`
	ProposalKind string `json:"kind"`
	Method       string `json:"method,omitempty"`
	OpensAt      string `json:"opens_at"`
	Options      string `json:"options_digest,omitempty"`
	Proposal     int64  `json:"proposal"`
	Resource     *int64 `json:"resource,omitempty"`
}

func (Proposed) Kind() string { return KindProposed }

// Withdrawn: a proposal taken back by its author.
type Withdrawn struct {
	By       int64 `json:"by"`
	Proposal int64 `json:"proposal"`
}

func (Withdrawn) Kind() string { return KindWithdrawn }

// Cancelled: a proposal stopped by an admin, with the reason.
type Cancelled struct {
	By       int64  `json:"by"`
	Proposal int64  `json:"proposal"`
	Reason   string `json:"reason"`
}

func (Cancelled) Kind() string { return KindCancelled }

// BallotOpened: voting opened, with the frozen rules and roll.
//
// Version 9 adds, when they apply: the early close, the meeting whose
// chair opened it, the proxy cap, the proxies frozen with the roll (pairs
// principal, holder, by member number, ascending) and the quorum's base.
type BallotOpened struct {
	ClosesAt   string     `json:"closes_at"`
	EarlyClose bool       `json:"early_close,omitempty"`
	Meeting    int64      `json:"meeting,omitempty"`
	Proposal   int64      `json:"proposal"`
	Proxies    [][2]int64 `json:"proxies,omitempty"`
	ProxyCap   int        `json:"proxy_cap,omitempty"`
	QuorumOn   string     `json:"quorum_on,omitempty"`
	QuorumPct  int        `json:"quorum_pct"`
	RollDigest string     `json:"roll_digest"`
	RollSize   int        `json:"roll_size"`
	Secret     bool       `json:"secret"`
	Threshold  string     `json:"threshold"`
}

func (BallotOpened) Kind() string { return KindBallotOpened }

// BallotClosed: the tally, the outcome and the box's digest.
// A choice among options (version 8) has no yes, no or abstain (0 here)
// but its method and the SHA-256 of its result's JSON as stored.
//
// Version 9 adds, when they apply: the chair who closed a meeting's
// ballot (ClosedBy), a close because everyone had voted (Early), the
// number on the roll who stood aside (Recused) and the number the quorum
// was counted on (QuorumBase, with QuorumOn "present" for a meeting's
// attendance). An entry without them counted the quorum on the whole roll.
type BallotClosed struct {
	Abstain      int    `json:"abstain"`
	BoxDigest    string `json:"box_digest"`
	ClosedBy     int64  `json:"closed_by,omitempty"`
	Early        bool   `json:"early,omitempty"`
	Method       string `json:"method,omitempty"`
	No           int    `json:"no"`
	Outcome      string `json:"outcome"`
	Proposal     int64  `json:"proposal"`
	QuorumBase   int    `json:"quorum_base,omitempty"`
	QuorumMet    bool   `json:"quorum_met"`
	QuorumOn     string `json:"quorum_on,omitempty"`
	Recused      int    `json:"recused,omitempty"`
	ResultDigest string `json:"result_digest,omitempty"`
	RollSize     int    `json:"roll_size"`
	Turnout      int    `json:"turnout"`
	Yes          int    `json:"yes"`
}

func (BallotClosed) Kind() string { return KindBallotClosed }

// ProxyAppointed: a member (the principal) appointed another (the holder)
// as their proxy, for one ballot (Proposal) or for every ballot until
// revoked (Proposal 0). Appointment is the appointment's number.
type ProxyAppointed struct {
	Appointment int64 `json:"appointment"`
	Holder      int64 `json:"holder"`
	Principal   int64 `json:"principal"`
	Proposal    int64 `json:"proposal,omitempty"`
}

func (ProxyAppointed) Kind() string { return KindProxyAppointed }

// ProxyRevoked: an appointment ended, by the principal (By) or because a
// member left the co-op.
type ProxyRevoked struct {
	Appointment int64 `json:"appointment"`
	By          int64 `json:"by"`
	Holder      int64 `json:"holder"`
	Principal   int64 `json:"principal"`
	Proposal    int64 `json:"proposal,omitempty"`
}

func (ProxyRevoked) Kind() string { return KindProxyRevoked }

// Recused: a member on a ballot's roll declared a conflict of interest and
// stood aside, with their reason.
type Recused struct {
	Member   int64  `json:"member"`
	Proposal int64  `json:"proposal"`
	Reason   string `json:"reason"`
}

func (Recused) Kind() string { return KindRecused }

// MeetingCalled: an admin called a general meeting and chairs it.
type MeetingCalled struct {
	Chair    int64  `json:"chair"`
	Link     string `json:"link,omitempty"`
	Meeting  int64  `json:"meeting"`
	Place    string `json:"place,omitempty"`
	StartsAt string `json:"starts_at"`
	Title    string `json:"title"`
}

func (MeetingCalled) Kind() string { return KindMeetingCalled }

// MeetingItem: the chair put a proposal on a meeting's agenda, at Position.
type MeetingItem struct {
	By       int64 `json:"by"`
	Meeting  int64 `json:"meeting"`
	Position int   `json:"position"`
	Proposal int64 `json:"proposal"`
}

func (MeetingItem) Kind() string { return KindMeetingItem }

// MeetingRegister: the attendance register, frozen when the chair opened
// the meeting's first vote: the members present, by number, ascending.
type MeetingRegister struct {
	By      int64   `json:"by"`
	Meeting int64   `json:"meeting"`
	Present []int64 `json:"present"`
}

func (MeetingRegister) Kind() string { return KindMeetingRegister }

// MeetingClosed: the chair closed the meeting.
type MeetingClosed struct {
	By      int64 `json:"by"`
	Meeting int64 `json:"meeting"`
}

func (MeetingClosed) Kind() string { return KindMeetingClosed }

// Effect is what a carried (or, for a demand, defeated) ballot did to a
// demand or a resource, in words. Digest is the content digest of the
// item as endorsed or amended (see library's digest.go); it is empty for
// effects that endorse nothing. Skipped marks an effect that had nothing
// to do, or an amendment that was stale.
type Effect struct {
	Skipped  bool   `json:"-"`
	Demand   *int64 `json:"demand,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Effect   string `json:"effect"`
	Proposal int64  `json:"proposal"`
	Resource *int64 `json:"resource,omitempty"`
}

func (e Effect) Kind() string {
	if e.Skipped {
		return KindEffectSkipped
	}
	return KindEffectApplied
}

// ResourceStatus: an admin listed a resource (approved it from the queue),
// hid it, or returned it to the queue. Event is the entry's kind.
type ResourceStatus struct {
	Event    string `json:"-"`
	By       int64  `json:"by"`
	Resource int64  `json:"resource"`
}

func (e ResourceStatus) Kind() string { return e.Event }

// ResourceEdited: a resource's record changed, and which fields.
type ResourceEdited struct {
	By       int64    `json:"by"`
	Fields   []string `json:"fields"`
	Resource int64    `json:"resource"`
}

func (ResourceEdited) Kind() string { return KindResourceEdited }

// DemandEdited: a demand's text, audience or supporting resources changed.
type DemandEdited struct {
	By     int64    `json:"by"`
	Demand int64    `json:"demand"`
	Fields []string `json:"fields"`
}

func (DemandEdited) Kind() string { return KindDemandEdited }

// DigestRecorded: the content digest of an item endorsed before digests
// were kept, computed when the database was brought to schema version 4.
type DigestRecorded struct {
	Demand   *int64 `json:"demand,omitempty"`
	Digest   string `json:"digest"`
	Proposal int64  `json:"proposal"`
	Resource *int64 `json:"resource,omitempty"`
}

func (DigestRecorded) Kind() string { return KindDigestRecorded }
