package checkpoint

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Saver writes states off an input's ack path: Put only records the newest
// value of a key, and a background goroutine writes the newest value of
// each key, so a burst of acks costs one write per key, not one per batch.
// A value that fails to save is kept (unless a newer one came) and tried
// again on the next write; the data behind it stays delivered but not
// recorded, so a restart reads it again and outputs drop it by event id.
type Saver struct {
	store *Store
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]any

	wake  chan struct{}
	flush chan chan error
	stop  chan struct{}
	done  chan struct{}
	final error
}

// NewSaver starts a saver for store; Close stops it.
func NewSaver(store *Store, log *slog.Logger) *Saver {
	s := &Saver{
		store: store, log: log, pending: map[string]any{},
		wake: make(chan struct{}, 1), flush: make(chan chan error),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.loop()
	return s
}

// Put records v as key's newest state. v is encoded when written, so a
// value implementing json.Marshaler pays its encoding off the ack path.
func (s *Saver) Put(key string, v any) {
	s.mu.Lock()
	s.pending[key] = v
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Sync writes every recorded state now.
func (s *Saver) Sync() error {
	reply := make(chan error)
	select {
	case s.flush <- reply:
		return <-reply
	case <-s.done:
		return errors.New("checkpoint saver stopped")
	}
}

// Close writes what is left, stops the saver and returns the errors of
// that last write.
func (s *Saver) Close() error {
	close(s.stop)
	<-s.done
	return s.final
}

func (s *Saver) loop() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
			s.saveAll()
		case reply := <-s.flush:
			reply <- s.saveAll()
		case <-s.stop:
			s.final = s.saveAll()
			return
		}
	}
}

func (s *Saver) saveAll() error {
	s.mu.Lock()
	batch := s.pending
	s.pending = map[string]any{}
	s.mu.Unlock()
	var errs []error
	for key, v := range batch {
		if err := s.store.Save(key, v); err != nil {
			s.log.Error("cannot save input state; the data after it will be read again", "key", key, "err", err)
			errs = append(errs, fmt.Errorf("save %s: %w", key, err))
			s.mu.Lock()
			if _, newer := s.pending[key]; !newer {
				s.pending[key] = v
			}
			s.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}
