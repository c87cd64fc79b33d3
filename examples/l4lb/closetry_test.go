//go:build linux

package main

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCloseTry: a failed TCP try closed by closeTry frees its port at
// once, so that the next try binds the same port. Closed plainly instead,
// the client closing first, the port stays held and the next bind fails:
// the test checks that too, so that it shows the reset is what frees it.
func TestCloseTry(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The server accepts and says nothing, like a backend whose answer
	// was lost, and keeps its ends open until the test ends.
	var mu sync.Mutex
	var held []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		l.Close()
		wg.Wait()
		for _, c := range held {
			c.Close()
		}
	}()
	free, err := net.Listen("tcp4", "127.0.0.1:0") // a port nobody holds
	if err != nil {
		t.Fatal(err)
	}
	port := free.Addr().(*net.TCPAddr).Port
	free.Close()
	dial := func() (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, Timeout: 2 * time.Second}
		return d.Dial("tcp4", l.Addr().String())
	}
	for try := range 3 {
		c, err := dial()
		if err != nil {
			t.Fatalf("try %d from port %d after a failed try closed by closeTry: %v", try, port, err)
		}
		closeTry(c, true)
	}
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	closeTry(c, false) // answered: a plain close, which holds the port
	if c, err := dial(); !errors.Is(err, syscall.EADDRINUSE) {
		if err == nil {
			c.Close()
		}
		t.Fatalf("dial from port %d after a plain close: %v, want EADDRINUSE (the test no longer shows what closeTry's reset does)", port, err)
	}
}
