package demo

import (
	"fmt"
	"time"

	"plenary/governance"
)

// found creates the admin, who founds the co-op.
func (r *run) found() error {
	name := r.g.personName()
	m, err := r.gov.AddMember(r.ctx, governance.Details{Name: name, Email: AdminEmail, Password: r.password}, governance.RoleAdmin)
	if err != nil {
		return err
	}
	r.admin = m
	r.roll = append(r.roll, m.ID)
	return nil
}

// admit adds n members in batches, as if the admin approved each, over the
// co-op's first months.
func (r *run) admit(n int) error {
	people := make([]governance.Newcomer, n)
	for i := range people {
		given, family := r.g.pick(r.g.w.GivenNames), r.g.pick(r.g.w.FamilyNames)
		people[i] = governance.Newcomer{
			Name:  given + " " + family,
			Email: fmt.Sprintf("%s.%s.%d@example.org", asciiFold(given), asciiFold(family), i+1),
		}
	}
	p := newProgress(r.log, "members", "admitted", n)
	step := foundingPeriod / time.Duration(max(1, (n+governance.AdmitBatch-1)/governance.AdmitBatch))
	r.now = r.now.Add(time.Hour)
	ids, err := r.gov.AdmitMany(r.ctx, r.admin, r.password, people, func(done int) {
		r.now = r.now.Add(step)
		p.update(done, "")
	})
	if err != nil {
		return err
	}
	r.roll = append(r.roll, ids...)
	p.done(len(ids), "")
	return nil
}
