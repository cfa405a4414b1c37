package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// The co-op's settings (admins): its default time zone.

func (s *Server) showSettings(c *gin.Context) {
	name, err := s.gov.DefaultZoneName(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin/settings", view{Title: "Settings", Form: form{Values: map[string]string{"time_zone": name}}})
}

func (s *Server) setSettings(c *gin.Context) {
	err := s.gov.SetDefaultZone(c.Request.Context(), *member(c), c.PostForm("time_zone"))
	if v := errorsOf(err); v != nil {
		f := postedForm(c, "time_zone")
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "admin/settings", view{Title: "Settings", Form: f})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/settings", "The co-op's time zone is saved.")
}
