package server

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// routes lists every route in three groups: public, members, admins.
// Reading it tells you who may do what.
func (s *Server) routes() {
	r := s.engine
	r.Use(stampArrival, s.requestLog, s.recoverPanic, s.securityHeaders)

	// Public: anyone, logged in or not. Health checks and static files are
	// registered before the session middleware (gin fixes a route's
	// middleware when it is registered), so they neither read nor set cookies.
	r.GET("/healthz", s.healthz)
	static := r.Group("/static", cacheStatic)
	static.StaticFS("/", filesOnly{http.FS(s.cfg.Static)})

	// limitInFlight comes after the form is read: only then does net/http
	// watch the connection, so that a visitor who leaves while waiting for
	// a turn is noticed and their request dropped rather than worked on
	// late (a vote that timed out must not land after the next one).
	r.Use(s.limitBody, s.loadSession, s.checkCSRF, s.limitInFlight, s.cachePublic)
	r.NoRoute(func(c *gin.Context) { s.fail(c, errNotFound) })
	r.NoMethod(func(c *gin.Context) { s.fail(c, errMethod) })
	r.GET("/", s.showHome)
	r.GET("/ledger", s.showLedger)
	r.GET("/library", s.listResources)
	r.GET("/library/feed.atom", s.libraryFeed)
	r.GET("/library/export.json", s.exportResources("json"))
	r.GET("/library/export.csv", s.exportResources("csv"))
	r.GET("/library/export.csl.json", s.exportResources("csl.json"))
	r.GET("/library/:id", s.showResource)
	r.GET("/demands", s.listDemands)
	r.GET("/demands/:id", s.showDemand)
	r.GET("/proposals", s.listProposals)
	r.GET("/proposals/:id", s.showProposal)
	r.GET("/proposals/:id/calendar.ics", s.proposalCalendar)
	// A member's private feed: the secret address is the key, as calendar
	// clients send no cookie.
	r.GET("/calendar/:token", s.calendarFeed)
	r.GET("/feed.atom", s.decisionsFeed)
	r.GET("/api/v1/proposals", s.apiListProposals)
	r.GET("/api/v1/proposals/:id", s.apiShowProposal)
	r.GET("/api/v1/ledger", s.apiLedger)
	r.GET("/api/v1/resources", s.apiListResources)
	r.GET("/api/v1/resources/:id", s.apiShowResource)
	r.GET("/api/v1/demands", s.apiListDemands)
	r.GET("/api/v1/demands/:id", s.apiShowDemand)
	r.GET("/join", s.showJoin)
	r.POST("/join", s.join)
	r.GET("/login", s.showLogin)
	r.POST("/login", s.login)
	r.POST("/logout", s.logout)
	r.GET("/setup", s.showSetup)
	r.POST("/setup", s.setup)
	r.GET("/invite/:token", s.showInvitation)
	r.POST("/invite/:token", s.acceptInvitation)
	r.GET("/forgot", s.showForgot)
	r.POST("/forgot", s.requestReset)
	r.GET("/reset/:token", s.showReset)
	r.POST("/reset/:token", s.resetPassword)
	// An email's one-click unsubscribe (RFC 8058): the signed token is the
	// only credential, and mail clients POST from anywhere, so this POST
	// alone is exempt from the CSRF token and cross-origin checks.
	r.GET("/unsubscribe/:token", s.showUnsubscribe)
	r.POST("/unsubscribe/:token", s.unsubscribe)

	// Members: anyone logged in, applicants included (they keep their
	// details up to date while they wait).
	m := r.Group("/", s.requireMember)
	m.GET("/account", s.showAccount)
	m.POST("/account/name", s.updateName)
	m.POST("/account/email", s.changeEmail)
	m.POST("/account/password", s.changePassword)
	m.POST("/account/notifications", s.setPreferences)
	m.POST("/account/zone", s.setTimeZone)
	m.POST("/account/calendar", s.newCalendarLink)
	// Voting checks the ballot's frozen roll, not today's status: a member
	// suspended after voting opened still votes.
	m.POST("/proposals/:id/vote", s.castVote)
	// Issue 15. A holder votes for the principals frozen into the ballot's
	// roll, and a member on the roll stands aside: both check the ballot,
	// not today's status, as voting does.
	m.GET("/proposals/:id/proxies", s.showProxyBallots)
	m.POST("/proposals/:id/proxies/:principal", s.voteAsProxy)
	m.POST("/proposals/:id/recuse", s.recuse)

	// Active members: taking part in the co-op's work.
	act := r.Group("/", s.requireActive)
	act.GET("/library/new", s.showNewResource)
	act.POST("/library/new", s.submitResource)
	act.GET("/library/:id/edit", s.showEditResource)
	act.POST("/library/:id/edit", s.updateResource)
	act.GET("/proposals/new", s.showNewProposal)
	act.POST("/proposals/new", s.propose)
	act.GET("/proposals/amend", s.showAmend)
	act.POST("/proposals/amend", s.proposeAmendment)
	act.POST("/proposals/:id/comments", s.addComment)
	act.POST("/proposals/:id/withdraw", s.withdrawProposal)
	act.GET("/demands/new", s.showNewDemand)
	act.POST("/demands/new", s.draftDemand)
	act.GET("/demands/:id/edit", s.showEditDemand)
	act.POST("/demands/:id/edit", s.updateDemand)
	// Proxies and general meetings, issue 15 (proxies.go, meetings.go).
	act.GET("/proxies", s.showProxies)
	act.POST("/proxies", s.appointProxy)
	act.POST("/proxies/:id/revoke", s.revokeProxy)
	act.GET("/meetings", s.listMeetings)
	act.GET("/meetings/:id", s.showMeeting)
	act.GET("/meetings/:id/screen", s.showScreen)
	act.POST("/meetings/:id/checkin", s.checkIn)

	// The chair: any active admin (governance.chairAct), at the meeting's
	// own addresses rather than under /admin, as the room follows them.
	chair := r.Group("/meetings", s.requireAdmin)
	chair.GET("/new", s.showNewMeeting)
	chair.POST("/new", s.callMeeting)
	chair.POST("/:id/present", s.markPresent)
	chair.POST("/:id/items", s.addItem)
	chair.POST("/:id/items/:pid/open", s.openItem)
	chair.POST("/:id/items/:pid/close", s.closeItem)
	chair.POST("/:id/close", s.closeMeeting)

	// Admins: the co-op's secretaries, running membership.
	a := r.Group("/admin", s.requireAdmin)
	a.GET("/members", s.listMembers)
	a.GET("/members/register.csv", s.downloadRegister)
	// The roster forms take a CSV of up to 2 MB: their bodies have a cap
	// of their own (limitBody).
	a.GET("/members/import", s.showImport)
	a.POST("/members/import", s.importMembers)
	a.GET("/members/:id", s.showMember)
	a.POST("/members/:id/approve", s.approveMember)
	a.POST("/members/:id/reject", s.rejectMember)
	a.POST("/members/:id/suspend", s.suspendMember)
	a.POST("/members/:id/reinstate", s.reinstateMember)
	a.POST("/members/:id/role", s.setRole)
	a.POST("/members/:id/leave", s.markLeft)
	a.POST("/members/:id/erase", s.eraseMember)
	a.POST("/members/:id/reset", s.issueReset)
	a.GET("/invitations", s.listInvitations)
	a.POST("/invitations", s.createInvitation)
	a.GET("/invitations/bulk", s.showBulkInvite)
	a.POST("/invitations/bulk", s.bulkInvite)
	a.POST("/invitations/:id/revoke", s.revokeInvitation)
	a.GET("/rules", s.showRules)
	a.POST("/rules", s.setRule)
	a.GET("/settings", s.showSettings)
	a.POST("/settings", s.setSettings)
	// Only a failed message may be sent again (governance.ResendMail).
	a.GET("/mail", s.showMail)
	a.POST("/mail/:id/resend", s.resendMail)
	a.POST("/proposals/:id/cancel", s.cancelProposal)
	a.GET("/library", s.listQueue)
	a.POST("/library/:id/status", s.setResourceStatus)

	// Choices among options, issue 14, the making of them (choice_form.go
	// is reached through /proposals/new) and what they settled: the
	// officers and the priority list (officers.go), public like every
	// closed ballot.
	r.GET("/officers", s.showOfficers)
	r.GET("/api/v1/officers", s.apiOfficers)
	r.GET("/api/v1/priorities", s.apiPriorities)

	// A meeting's minutes: the members' while it runs, public once closed
	// (meetings.go, minutesFor).
	r.GET("/meetings/:id/minutes", s.showMinutes)
	r.GET("/meetings/:id/minutes.md", s.minutesMarkdown)
}

// filesOnly serves files but no directory listings.
type filesOnly struct{ http.FileSystem }

func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.FileSystem.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}
