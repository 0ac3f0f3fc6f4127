package webchat_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/channels/webchat/widget"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/browsertest"
)

// The widget against this server, in a real browser: what package widget's
// tests check against a fake of the protocol, here end to end, down to what
// the database keeps.

// withWidget serves the chat page next to the socket.
func withWidget(e *env, _ *webchat.Config) {
	e.areas = append(e.areas, widget.New(widget.Config{Store: e.store}))
}

func TestTheWidgetRatesTheAssistantsAnswersAndAsksForAnOperator(t *testing.T) {
	t.Parallel()
	e := setup(t, withWidget)
	e.enableAssistant()
	ctx := browsertest.New(t)
	errs := browsertest.WatchErrors(ctx, t)
	until := func(expr string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(wait))), expr)
	}
	text := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		require.NoError(t, err, expr)
		return v
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.url+"/chat/"+e.tenant.Slug+"?lang=it")))
	until(`!document.getElementById('dlg-attach').disabled`) // the welcome came
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		document.getElementById('dlg-input').value = 'Come pago la TARI?';
		document.getElementById('dlg-form').requestSubmit();
	})()`)))
	until(`document.querySelector('.dlg-msg--out[data-delivery="sent"]')`)
	until(`document.getElementById('dlg-conv-status').textContent === "Stai parlando con l'assistente virtuale del Comune. Puoi chiedere un operatore in qualsiasi momento."`)
	token := text(`localStorage.getItem('dialogo:` + e.tenant.Slug + `:visitor')`)
	owner, err := e.store.OwnerOf(e.ctx, e.tenant.ID, crm.IdentityWebchat, visitorIdentity(token))
	require.NoError(t, err)
	conv, err := e.store.ContactConversation(e.ctx, e.tenant.ID, owner.ContactID, crm.ChannelWebchat, "")
	require.NoError(t, err)
	require.Equal(t, crm.StatusAssistant, conv.Status)

	answer := e.assistantAnswers(conv.ID, "La TARI si paga con l'avviso pagoPA.\n\n"+
		"> L'avviso arriva a casa entro aprile.\n\nTutte le informazioni: https://www.comune.milano.it/tari")
	answerSel := fmt.Sprintf(`.dlg-msg[data-author="assistant"][data-seq="%d"]`, answer.Seq)
	until(`document.querySelector('` + answerSel + ` .dlg-feedback')`)

	t.Run("the address in the answer is a link", func(t *testing.T) {
		require.Equal(t, "https://www.comune.milano.it/tari|_blank|noopener noreferrer nofollow",
			text(`(() => { const a = document.querySelector('`+answerSel+` a'); return [a.href, a.target, a.rel].join('|'); })()`))
		require.Equal(t, "L'avviso arriva a casa entro aprile.", text(`document.querySelector('`+answerSel+` blockquote').textContent`))
	})

	t.Run("Non utile is stored as -1", func(t *testing.T) {
		require.Equal(t, 0, e.feedbackOn(conv.ID, answer.Seq))
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(answerSel+` .dlg-feedback__button[data-useful="false"]`))))
		until(`document.getElementById('dlg-announce').textContent === 'Grazie, la tua valutazione è stata registrata.'`)
		require.Equal(t, -1, e.feedbackOn(conv.ID, answer.Seq))
		require.Equal(t, "true", text(`document.querySelector('`+answerSel+` .dlg-feedback__button[data-useful="false"]').getAttribute('aria-pressed')`))
		browsertest.Axe(ctx, t)
	})

	t.Run("Parla con un operatore sends the request", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("dlg-operator"))))
		until(`document.querySelectorAll('.dlg-msg--out[data-delivery="sent"]').length === 2`)
		msgs := e.messages(conv.ID)
		last := msgs[len(msgs)-1]
		require.Equal(t, crm.AuthorCitizen, last.AuthorKind)
		require.Equal(t, "Vorrei parlare con un operatore", last.Text)
		turn := e.assistantTurn(conv.ID)
		require.Equal(t, "Vorrei parlare con un operatore", turn.Questions()[0].Text, "the assistant has the request to answer")
		require.NoError(t, e.store.ReleaseAssistantTurn(e.ctx, turn))
	})
	errs.Check(t)
}
