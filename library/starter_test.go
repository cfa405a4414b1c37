package library

import (
	"context"
	"sync"
	"testing"
	"time"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// Several processes serving one database start together, each finding the
// library empty: the starter library goes in once, and only one of them
// says it loaded it. (Each process counted the library before its import
// waited for the writers' lock, so both imported, the second over the
// first's rows, and both said so: found by TestChaos on PostgreSQL.)
func TestLoadStarterOnceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	path := dbtest.Path(t)
	now := func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }
	const processes = 3
	var services []*Service
	for range processes {
		d, err := db.Open(ctx, path, dbtest.Schema(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		services = append(services, New(d, now))
	}
	loaded := make([]bool, processes)
	errs := make([]error, processes)
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() { loaded[i], errs[i] = s.LoadStarter(ctx) })
	}
	wg.Wait()
	n := 0
	for i := range services {
		if errs[i] != nil {
			t.Fatalf("LoadStarter in process %d: %v", i, errs[i])
		}
		if loaded[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of %d processes say they loaded the starter library; want 1 (%v)", n, processes, loaded)
	}

	want, err := Decode(starter)
	if err != nil {
		t.Fatal(err)
	}
	var resources, demands, updated int
	if err := services[0].db.R.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM resources), (SELECT count(*) FROM demands),
		(SELECT count(*) FROM resources WHERE updated_at <> created_at)`).Scan(&resources, &demands, &updated); err != nil {
		t.Fatal(err)
	}
	if resources != len(want.Resources) || demands != len(want.Demands) || updated != 0 {
		t.Errorf("the library holds %d resources (%d updated) and %d demands; want the starter's %d and %d, none updated",
			resources, updated, demands, len(want.Resources), len(want.Demands))
	}
	if again, err := services[1].LoadStarter(ctx); err != nil || again {
		t.Errorf("LoadStarter on the loaded library = %v, %v; want false, nil", again, err)
	}
}
