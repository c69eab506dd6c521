// Package webhook sends the signed webhook that helios-scaffold run posts
// once when a render ends, and lets a receiver written in Go verify it.
//
// # What is sent
//
// One POST of a JSON [Payload] to the webhook's URL, for the run's
// outcome: [EventDone] (every chunk rendered and, unless told not to, the
// output merged), [EventFailed], [EventBudget] (stopped at its cost
// budget) or [EventInterrupted]. Its headers:
//
//	Content-Type: application/json
//	User-Agent: helios-scaffold-webhook
//	X-Helios-Event: done
//	X-Helios-Delivery: 3f9c0a7e5b1d42c8a6e0f1b2c3d4e5f6
//	X-Helios-Signature: sha256=<64 lowercase hex digits>
//
// [SignatureHeader] is "sha256=" and the lowercase hex of
// HMAC-SHA256(secret, body), over the body's exact bytes ([Sign]).
// [EventHeader] repeats the payload's event, and [DeliveryHeader] its
// deliveryId, so that a receiver can route a delivery before it parses
// the body; only the body is signed.
//
// # Retries
//
// [Sender.Send] makes at most 5 attempts ([Sender.Attempts]), each bounded
// by 10 s ([DefaultTimeout]). It tries again after a network error or a
// timeout, and after a 408, 425, 429 or 5xx; it waits a random time
// between 0 and 1 s after the first attempt, 2 s after the second, then
// 4 s and 8 s, doubling up to 30 s ([DefaultBackoff], [MaxBackoff]). A
// Retry-After in seconds that asks for longer is honoured, up to 30 s; a
// Retry-After date is ignored. Any other answer, a 4xx or a redirect
// (the default client follows none), is final, and Send's error wraps
// [ErrRejected]. Send stops when its context ends: to report an
// interrupted run, send with a context that the interrupt did not cancel,
// such as context.WithTimeout(context.WithoutCancel(ctx), time.Minute).
//
// Every attempt of a delivery carries the same body bytes, signature and
// delivery id. A receiver that answered too slowly may therefore see a
// delivery twice, and should drop a deliveryId it has seen.
// helios-scaffold run derives the id from the state file, the outcome and
// the time the run started ([DeliveryID]): sending the same outcome of the
// same run again gives the same id, and a later run on the same state
// another.
//
// # Verifying a delivery
//
// Verify the raw body before parsing it, against the header, in constant
// time, and answer 2xx once the delivery is taken (a 4xx is not retried,
// a 5xx is). With this package:
//
//	func receive(w http.ResponseWriter, r *http.Request) {
//		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//		if err != nil {
//			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
//			return
//		}
//		if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
//			http.Error(w, "bad signature", http.StatusUnauthorized)
//			return
//		}
//		var p webhook.Payload
//		if err := json.Unmarshal(body, &p); err != nil {
//			http.Error(w, "bad payload", http.StatusBadRequest)
//			return
//		}
//		if firstTime(p.DeliveryID) { // a store of the ids seen
//			notify(p)
//		}
//		w.WriteHeader(http.StatusNoContent)
//	}
//
// With the standard library alone, the check is:
//
//	m := hmac.New(sha256.New, secret)
//	m.Write(body)
//	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
//	ok := hmac.Equal([]byte(want), []byte(r.Header.Get("X-Helios-Signature")))
//
// In Node.js, over the raw body (a Buffer, such as express.raw() gives;
// timingSafeEqual throws on buffers of different lengths):
//
//	const want = Buffer.from('sha256=' + crypto.createHmac('sha256', secret).update(rawBody).digest('hex'));
//	const got = Buffer.from(req.get('X-Helios-Signature') || '');
//	const ok = got.length === want.length && crypto.timingSafeEqual(got, want);
//
// The payload's time and deliveryId are under the signature: a receiver
// that wants to refuse a replayed delivery can refuse an old time or an
// id it has seen.
//
// # Secrets
//
// [Check] says what is wrong with a URL and secret before a run starts.
// The package never logs; its errors never hold the secret, and name the
// URL without its userinfo, query and fragment, where a receiver's token
// may be. It parses no flags; helios-scaffold run wires it to its
// command line.
package webhook
