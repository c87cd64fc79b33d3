package bpfload_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// TestLife: the zero Life is open; Close waits for a call in progress
// before it frees (the call would see the kernel freed under it
// otherwise), returns free's error, and runs free once; calls after it
// are refused.
func TestLife(t *testing.T) {
	var l bpfload.Life
	var freed atomic.Bool
	if !l.Enter() {
		t.Fatal("the zero Life refused a call")
	}
	closed := make(chan error)
	go func() {
		closed <- l.Close(func() error { freed.Store(true); return errors.New("free failed") })
	}()
	time.Sleep(50 * time.Millisecond) // time for a Close that did not wait to free
	if freed.Load() {
		t.Fatal("Close freed the kernel while a call was in progress")
	}
	l.Exit()
	if err := <-closed; err == nil || err.Error() != "free failed" {
		t.Fatalf("Close = %v, want free's error", err)
	}
	if !freed.Load() {
		t.Fatal("Close did not free")
	}
	if l.Enter() {
		t.Fatal("a call entered a closed Life")
	}
	if err := l.Close(func() error { t.Error("a second Close freed again"); return nil }); err != nil {
		t.Fatalf("a second Close = %v, want nil", err)
	}
}

// TestLife_Concurrent: calls enter together, none waiting for another.
func TestLife_Concurrent(t *testing.T) {
	var l bpfload.Life
	const n = 4
	in := make(chan struct{})
	for range n {
		go func() {
			if l.Enter() {
				in <- struct{}{}
			}
		}()
	}
	for range n {
		<-in // all n are in at once: none has exited
	}
	for range n {
		l.Exit()
	}
	if err := l.Close(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}
