package fakeclock_test

import (
	"sync"
	"testing"
	"time"

	"plenary/internal/fakeclock"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	c := fakeclock.New(start)

	t.Run("it stands still until moved", func(t *testing.T) {
		if got := c.Now(); !got.Equal(start) {
			t.Fatalf("Now = %v, want %v", got, start)
		}
		time.Sleep(time.Millisecond)
		if got := c.Now(); !got.Equal(start) {
			t.Errorf("after a real millisecond Now = %v, want it unchanged at %v", got, start)
		}
	})

	t.Run("Advance moves it on and Set puts it anywhere", func(t *testing.T) {
		c.Advance(90 * time.Minute)
		if want := start.Add(90 * time.Minute); !c.Now().Equal(want) {
			t.Errorf("after Advance Now = %v, want %v", c.Now(), want)
		}
		back := start.Add(-time.Hour)
		c.Set(back)
		if !c.Now().Equal(back) {
			t.Errorf("after Set Now = %v, want %v", c.Now(), back)
		}
	})

	t.Run("readers and writers at once lose no move", func(t *testing.T) {
		c.Set(start)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					c.Advance(time.Second)
					_ = c.Now()
				}
			})
		}
		wg.Wait()
		if want := start.Add(800 * time.Second); !c.Now().Equal(want) {
			t.Errorf("after 800 concurrent one-second moves Now = %v, want %v", c.Now(), want)
		}
	})
}
