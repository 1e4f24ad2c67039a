package blob

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The parsers split a blob's bytes into records. Each reads the whole blob
// from its start (after a byte order mark), calls emit for every record with
// the byte offset of its first byte, and problem for every piece it cannot
// use. A record's bytes are valid only during the call. They return the
// offset from which the blob must be read again if it grows (the start of an
// unfinished last line or object, else the end), and an error only when
// reading failed or emit returned one: bad content is a problem, never an
// error.
type (
	emitFunc    func(off int64, data []byte) error
	problemFunc func(off int64, reason string)
)

// parseText splits text into lines (LF or CRLF). Blank lines carry nothing
// and are skipped; a line longer than max bytes is skipped and reported. An
// unterminated last line is a record too (a blob written whole need not end
// with a newline); if the blob grows it is read again from that line's
// start, so a line completed later is not cut in two.
func parseText(r *bufio.Reader, base int64, max int, emit emitFunc, problem problemFunc) (int64, error) {
	off := base
	var buf []byte
	for {
		start := off
		line, n, nl, err := readLine(r, max, buf[:0])
		buf = line
		off += n
		if n > 0 {
			size := n
			if nl {
				size--
			}
			text := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
			switch {
			case size > int64(max):
				problem(start, fmt.Sprintf("line longer than %d bytes: skipped", max))
			case len(bytes.TrimSpace(text)) > 0:
				if err := emit(start, text); err != nil {
					return 0, err
				}
			}
		}
		if err == io.EOF {
			if n > 0 && !nl {
				return start, nil
			}
			return off, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// readLine reads one line and its newline, keeping at most max+1 bytes of
// it in buf. It returns the bytes kept, the number of bytes consumed, and
// whether the line ended with a newline.
func readLine(r *bufio.Reader, max int, buf []byte) (line []byte, n int64, nl bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		n += int64(len(chunk))
		if room := max + 1 - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		switch {
		case err == nil:
			return buf, n, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return buf, n, false, err
		}
	}
}

// objScanner finds JSON objects in a json_inline blob: one per line (JSON
// Lines), several back to back on a line ("}{", with or without spaces), or
// one pretty-printed over several lines. It tracks strings and nesting
// itself rather than using encoding/json's stream decoder, so that it can
// resynchronise after damage: a broken object is reported and reading goes
// on at the next line that starts with '{'. That rule also ends an object
// whose later lines start with '{' in column 0, which pretty-printers never
// write (they indent nested values).
type objScanner struct {
	max     int
	emit    emitFunc
	problem problemFunc

	mode      int
	buf       []byte // the object being scanned, from its '{'
	start     int64  // offset of buf[0]
	depth     int
	inStr     bool
	esc       bool
	broken    bool // a raw newline inside a string: the object cannot be valid
	lineStart bool // the previous byte ended a line (or there was none)
	err       error
}

const (
	scanIdle = iota // between objects
	scanObj         // inside an object
	scanSkip        // after damage: until a line starts with '{'
)

func parseInline(r io.Reader, base int64, max int, emit emitFunc, problem problemFunc) (int64, error) {
	s := &objScanner{max: max, emit: emit, problem: problem, lineStart: true}
	off := base
	chunk := make([]byte, 64<<10)
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			if ferr := s.feed(chunk[:n], off); ferr != nil {
				return 0, ferr
			}
			off += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if s.mode == scanObj {
		s.problem(s.start, "JSON object cut short at the end of the blob: skipped (read again if the blob grows)")
		return s.start, nil
	}
	return off, nil
}

func (s *objScanner) begin(off int64) {
	s.mode = scanObj
	s.start = off
	s.buf = append(s.buf[:0], '{')
	s.depth, s.inStr, s.esc, s.broken = 1, false, false, false
}

func (s *objScanner) feed(p []byte, off int64) error {
	for i, c := range p {
		at := off + int64(i)
		switch s.mode {
		case scanIdle:
			switch c {
			case ' ', '\t', '\r', '\n':
			case '{':
				s.begin(at)
			default:
				s.problem(at, "data that is not a JSON object: skipped up to the next line starting with '{'")
				s.mode = scanSkip
			}
		case scanSkip:
			if c == '{' && s.lineStart {
				s.begin(at)
			}
		case scanObj:
			if s.lineStart && c == '{' {
				// Inside a string the newline before made the object
				// invalid anyway: raw newlines are not allowed there.
				s.problem(s.start, "JSON object cut short (a line starting with '{' follows): skipped")
				s.begin(at)
				break
			}
			s.buf = append(s.buf, c)
			switch {
			case s.inStr:
				switch {
				case s.esc:
					s.esc = false
				case c == '\\':
					s.esc = true
				case c == '"':
					s.inStr = false
				case c == '\n':
					s.broken = true
				}
			case c == '"':
				s.inStr = true
			case c == '{' || c == '[':
				s.depth++
			case c == '}' || c == ']':
				s.depth--
				if s.depth == 0 {
					s.mode = scanIdle
					if err := s.complete(); err != nil {
						return err
					}
				}
			}
			if s.mode == scanObj && len(s.buf) > s.max {
				s.problem(s.start, fmt.Sprintf("JSON object longer than %d bytes: skipped", s.max))
				s.mode = scanSkip
			}
		}
		s.lineStart = c == '\n'
	}
	return nil
}

func (s *objScanner) complete() error {
	if s.broken || !json.Valid(s.buf) {
		s.problem(s.start, "invalid JSON object: skipped")
		return nil
	}
	return s.emit(s.start, s.buf)
}

// parseFile reads a json_file blob: the {"records": [...]} document of Azure
// diagnostic settings (other members are ignored), or a top-level array of
// records. It streams the records, so a large blob is not held in memory,
// and when the document is cut short or broken the records before the damage
// are still emitted. A record that is not an object is reported, as is a
// document of another shape.
func parseFile(r io.Reader, base int64, max int, emit emitFunc, problem problemFunc) error {
	p := fileParser{dec: json.NewDecoder(r), base: base, max: max, emit: emit, problem: problem}
	return p.parse()
}

type fileParser struct {
	dec     *json.Decoder
	base    int64
	max     int
	emit    emitFunc
	problem problemFunc
	records int
}

// errStop ends parsing after the damage has been reported.
var errStop = errors.New("stop")

func (p *fileParser) offset() int64 { return p.base + p.dec.InputOffset() }

// nextOffset is the offset of the next token: InputOffset stands before the
// separators and spaces that precede it.
func (p *fileParser) nextOffset() int64 {
	off := p.offset()
	buf := make([]byte, 64)
	n, _ := p.dec.Buffered().Read(buf)
	for _, c := range buf[:n] {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' && c != ':' {
			break
		}
		off++
	}
	return off
}

// damaged reports a decoding error: the document is cut short or broken at
// off. Errors of the reader itself are returned as they are.
func (p *fileParser) damaged(off int64, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		p.problem(off, fmt.Sprintf("JSON document cut short after %d records: the rest is skipped", p.records))
	case errors.As(err, &syn):
		// syn.Offset counts from where the decoder's scan began, which
		// is not a blob offset: report the start of the broken value.
		p.problem(off, fmt.Sprintf("invalid JSON after %d records (%v): the rest is skipped", p.records, syn))
	default:
		return err
	}
	return errStop
}

func (p *fileParser) parse() error {
	err := p.document()
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (p *fileParser) document() error {
	off := p.nextOffset()
	tok, err := p.dec.Token()
	if err == io.EOF {
		p.problem(p.base, "no JSON document (only spaces)")
		return nil
	}
	if err != nil {
		return p.damaged(off, err)
	}
	switch tok {
	case json.Delim('['):
		if err := p.array(); err != nil {
			return err
		}
	case json.Delim('{'):
		found := false
		for p.dec.More() {
			off := p.nextOffset()
			key, err := p.dec.Token()
			if err != nil {
				return p.damaged(off, err)
			}
			off = p.nextOffset()
			if key == "records" && !found {
				found = true
				tok, err := p.dec.Token()
				if err != nil {
					return p.damaged(off, err)
				}
				if tok != json.Delim('[') {
					p.problem(off, `"records" is not an array: the blob is skipped`)
					return nil
				}
				if err := p.array(); err != nil {
					return err
				}
				continue
			}
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return p.damaged(off, err)
			}
		}
		if _, err := p.dec.Token(); err != nil {
			return p.damaged(p.nextOffset(), err)
		}
		if !found {
			p.problem(p.base, `a JSON object without a "records" array: no records (a JSON object per line is content_type json_inline)`)
			return nil
		}
	default:
		p.problem(off, "not a JSON object with a \"records\" array nor an array of records: the blob is skipped")
		return nil
	}
	off = p.nextOffset()
	if _, err := p.dec.Token(); err != io.EOF {
		p.problem(off, "data after the JSON document: ignored")
	}
	return nil
}

// array reads the records of an array whose '[' was read, and its ']'.
func (p *fileParser) array() error {
	for p.dec.More() {
		off := p.nextOffset()
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			return p.damaged(off, err)
		}
		switch {
		case len(raw) > p.max:
			p.problem(off, fmt.Sprintf("record longer than %d bytes: skipped", p.max))
		case raw[0] != '{':
			p.problem(off, "record is not a JSON object: skipped")
		default:
			p.records++
			if err := p.emit(off, raw); err != nil {
				return err
			}
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return p.damaged(p.nextOffset(), err)
	}
	return nil
}
