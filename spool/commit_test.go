package spool

import (
	"testing"
	"time"
)

// gatherWithin runs d.gather and fails the test if it has not returned
// within a minute.
func gatherWithin(t *testing.T, d *Disk, last int, took time.Duration) []*op {
	t.Helper()
	got := make(chan []*op, 1)
	go func() {
		batch, _ := d.gather(&op{}, last, took)
		got <- batch
	}()
	select {
	case batch := <-got:
		return batch
	case <-time.After(time.Minute):
		t.Fatal("gather is still waiting after a minute")
		return nil
	}
}

// TestGatherWaitsAfterALargerCommit: after a commit of three appends, a
// batch of one waits for two more appends (the callers that commit
// released), and one fsync covers them.
func TestGatherWaitsAfterALargerCommit(t *testing.T) {
	d := &Disk{ops: make(chan *op)} // unbuffered: nothing is queued before gather runs
	go func() {
		d.ops <- &op{kind: opDelete} // not waited for, but taken
		d.ops <- &op{}
		d.ops <- &op{}
	}()
	if batch := gatherWithin(t, d, 3, time.Hour); len(batch) != 4 {
		t.Errorf("batch of %d, want the 3 appends and the deletion", len(batch))
	}
}

// TestGatherLoneCallerDoesNotWait: after a commit of one append, the next
// is committed alone at once, however long the last commit took: a lone
// caller pays one fsync and no wait.
func TestGatherLoneCallerDoesNotWait(t *testing.T) {
	d := &Disk{ops: make(chan *op, 8)}
	if batch := gatherWithin(t, d, 1, time.Hour); len(batch) != 1 {
		t.Errorf("batch of %d, want 1", len(batch))
	}
	// And what is queued is taken without waiting.
	d.ops <- &op{}
	if batch := gatherWithin(t, d, 1, time.Hour); len(batch) != 2 {
		t.Errorf("batch of %d, want the 2 queued", len(batch))
	}
}

// TestGatherWaitIsBounded: the wait for callers that do not come back ends
// after a quarter of the last commit's duration.
func TestGatherWaitIsBounded(t *testing.T) {
	d := &Disk{ops: make(chan *op, 8)}
	start := time.Now()
	if batch := gatherWithin(t, d, 32, 40*time.Millisecond); len(batch) != 1 {
		t.Errorf("batch of %d, want 1", len(batch))
	}
	if waited := time.Since(start); waited < 10*time.Millisecond {
		t.Errorf("waited %v, want a quarter of the last commit (10ms)", waited)
	}
}
