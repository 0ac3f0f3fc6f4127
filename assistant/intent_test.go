package assistant

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		text      string
		want      intent
		emergency bool
	}{
		{"Voglio parlare con un operatore", intentHandoff, false},
		{"posso parlare con una persona vera?", intentHandoff, false},
		{"OPERATORE", intentHandoff, false},
		{"Can I talk to a human please", intentHandoff, false},
		{"È urgente, non so più cosa fare", intentDistress, false},
		{"Mi hanno minacciato", intentDistress, true},
		{"NON FUNZIONA NIENTE IN QUESTO COMUNE", intentDistress, false},
		{"A che punto è la mia pratica?", intentPratica, false},
		{"qual è lo stato della mia domanda di residenza", intentPratica, false},
		{"Ho avvisi da pagare?", intentAvvisi, false},
		{"do I have anything to pay?", intentAvvisi, false},
		{"Quando è il mio appuntamento?", intentAppuntamento, false},
		{"When is my appointment?", intentAppuntamento, false},
		{"Ciao", intentGreeting, false},
		{"Buongiorno!", intentGreeting, false},
		{"Buongiorno, sono Lucia Bianchi", intentGreeting, false},
		{"Buongiorno, come si paga la TARI", intentQuestion, false},
		{"grazie mille, gentilissimo", intentThanks, false},
		// General questions about procedures are for the knowledge base, even
		// in the first person.
		{"Cosa devo fare per pagare la TARI?", intentQuestion, false},
		{"Quanto costa la carta d'identità?", intentQuestion, false},
		{"Come prenoto un appuntamento per la carta d'identità?", intentQuestion, false},
		{"Ciao, come si cambia residenza?", intentQuestion, false},
		{"Grazie, e per la mensa come faccio?", intentQuestion, false},
	}
	for _, c := range cases {
		got, emergency := classify(c.text)
		require.Equal(t, c.want, got, "%q", c.text)
		require.Equal(t, c.emergency, emergency, "%q", c.text)
	}
}

func TestLanguage(t *testing.T) {
	require.Equal(t, "en", language("How do I change my residence?"))
	require.Equal(t, "en", language("What documents do I need for the identity card"))
	require.Equal(t, "it", language("Come cambio la residenza?"))
	require.Equal(t, "it", language("Quanto costa la carta d'identità?"))
	require.Equal(t, "it", language("TARI"), "Italian when in doubt")
}

func TestEuro(t *testing.T) {
	require.Equal(t, "€ 0,05", euro(5))
	require.Equal(t, "€ 128,50", euro(12850))
	require.Equal(t, "€ 1.234,50", euro(123450))
	require.Equal(t, "€ 1.000.000,00", euro(100000000))
}
