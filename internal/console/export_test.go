package console

import "net/http"

// NewHandlerWithCheckHook is NewHandler with hook called as each password
// check starts (true) and ends (false), so tests can count checks and how
// many run at once.
func NewHandlerWithCheckHook(cfg Config, hook func(start bool)) (http.Handler, error) {
	h, err := newHandler(cfg)
	if err != nil {
		return nil, err
	}
	h.checkHook = hook
	return h.routes(), nil
}
