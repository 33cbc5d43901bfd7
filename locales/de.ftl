# Die Oberfläche des Bots auf Deutsch. Schlüssel und Platzhalter ({ $name }) wie in en.ftl; Telegram-HTML-Tags bleiben erhalten.

language-self = Deutsch

## Befehlsmenü (setMyCommands)
menu-start = Was ich weiß und wie man fragt
menu-help = So benutzt du diesen Bot
menu-sources = Die indexierten Artikel auflisten
menu-reset = Unser Gespräch vergessen
menu-forgetme = Deine protokollierten Fragen löschen
menu-follow = Benachrichtigungen zu einem Thema: /follow <Thema>
menu-following = Die Themen, denen du folgst
menu-unfollow = Einem Thema nicht mehr folgen
menu-language = Die Sprache wählen, in der ich schreibe
menu-reindex = Index aktualisieren (/reindex full baut neu auf)
menu-add = Artikel hinzufügen: /add <url>
menu-remove = Artikel entfernen: /remove <id>
menu-stats = Index- und Bot-Statistiken
menu-feeds = Feed-Abonnements und ihr Zustand
menu-feed = Feeds verwalten: /feed add <url>, /feed remove <url>
menu-audit = Wer was hinzugefügt, entfernt oder neu indexiert hat
menu-gaps = Was Leser fragten und die Artikel nicht beantworten

## /start und /help
start-knows = Hallo! Ich beantworte Fragen zu <b>{ $count }</b> { $count ->
        [one] Nachrichtenartikel
       *[other] Nachrichtenartikeln
    } und nenne die Artikel, die ich verwendet habe.
start-knows-on = Hallo! Ich beantworte Fragen zu <b>{ $count }</b> { $count ->
        [one] Nachrichtenartikel
       *[other] Nachrichtenartikeln
    }, erschienen am { $date }, und nenne die Artikel, die ich verwendet habe.
start-knows-between = Hallo! Ich beantworte Fragen zu <b>{ $count }</b> { $count ->
        [one] Nachrichtenartikel
       *[other] Nachrichtenartikeln
    }, erschienen von { $first } bis { $last }, und nenne die Artikel, die ich verwendet habe.
start-empty = Hallo! Ich beantworte Fragen zu Nachrichtenartikeln, aber noch ist keiner indexiert.
start-commands = /sources listet die Artikel · /reset fängt neu an · /help
ask-in-group = Erwähne mich (@{ $bot }) in deiner Frage oder antworte auf eine meiner Nachrichten.
ask-example-one = Tippe einfach eine Frage, zum Beispiel: { $first }
ask-example-two = Tippe einfach eine Frage, zum Beispiel: { $first } oder { $second }
ask-plain = Tippe einfach eine Frage.
ask-follow-ups = Anschlussfragen funktionieren auch; antworte auf eine meiner früheren Antworten, um dort weiterzumachen.
example-question = Was sagen die Artikel über „{ $title }“?
help-title = <b>So benutzt du mich</b>
help-answers = Antworten nennen ihre Quellen als [1], [2]… mit einer Quellenliste darunter; tippe auf <i>Zitate zeigen</i>, um die Textstellen zu sehen.
help-sources = /sources — die indexierten Artikel auflisten
help-reset = /reset — unser Gespräch vergessen und neu anfangen
help-forgetme = /forgetme — deine protokollierten Fragen und unser Gespräch löschen
help-follow = /follow &lt;Thema&gt; — eine Benachrichtigung, wenn ein neuer Artikel dazu erscheint; /following, /unfollow
help-language = /language — die Sprache, in der ich schreibe
help-inline = Tippe in jedem Chat <code>@{ $bot } Wörter</code>, um einen Artikel zu finden und zu teilen.
help-admin-title = <b>Verwaltung</b>
help-admin-reindex = /reindex — geänderte Artikel übernehmen (/reindex full baut alles neu auf)
help-admin-add = /add &lt;url&gt; — einen Artikel abrufen und hinzufügen; oder lade eine .txt-, .md-, .html- oder .pdf-Datei hoch
help-admin-remove = /remove &lt;id&gt; — einen Artikel löschen (die IDs stehen in /sources)
help-admin-stats = /stats — Index- und Bot-Statistiken
help-admin-feeds = /feeds — Feed-Abonnements und ihr Zustand; /feed add &lt;url&gt;, /feed remove &lt;url&gt;
help-admin-audit = /audit — wer was hinzugefügt, entfernt oder neu indexiert hat, und wann
help-admin-gaps = /gaps [Tage] — was Leser fragten und die Artikel nicht beantworten

## /sources, /reset und was niemand behandelt hat
sources-none = Noch sind keine Artikel indexiert.
sources-page = <b>Artikel</b> { $first }–{ $last } von { $total }
sources-previous = ‹ Zurück
sources-next = Weiter ›
date-unknown = Datum unbekannt
reset-done = Erledigt: Ich habe unser Gespräch vergessen. Frag mich, was du willst.
unknown-command = { $command } kenne ich nicht. Versuch es mit /help.
unknown-command-unnamed = Diesen Befehl kenne ich nicht. Versuch es mit /help.
not-text = Ich kann nur Textnachrichten lesen. Bitte tippe deine Frage.
stale-button = Dieser Knopf funktioniert nicht mehr. Bitte sende den Befehl noch einmal.

## /language
language-current = Ich schreibe dir auf Deutsch. Tippe auf eine andere Sprache oder sende /language mit ihrem Kürzel: { $codes }.
language-current-auto = Ich schreibe dir auf Deutsch, der Sprache deines Telegram. Tippe auf eine andere Sprache oder sende /language mit ihrem Kürzel: { $codes }.
language-set = Erledigt: Ich schreibe dir jetzt auf Deutsch.
language-auto = Erledigt: Ich folge wieder der Sprache deines Telegram und schreibe dir auf Deutsch.
language-unknown = Auf „{ $code }“ schreibe ich nicht. Ich kann schreiben auf: { $codes }.
language-auto-button = Sprache von Telegram

## Grenzen und Fehler
private-bot = Tut mir leid, dieser Bot ist privat. Bitte frag seinen Betreiber nach Zugang.
rate-limited = Du schickst Nachrichten schneller, als ich antworten kann (Grenze: { $limit } pro Minute). Bitte warte eine Minute und frag dann noch einmal.
something-went-wrong = Tut mir leid, bei mir ist etwas schiefgegangen. Bitte versuch es gleich noch einmal.
admins-only = Tut mir leid, diesen Befehl können nur die Admins des Bots verwenden.
admins-only-upload = Nur die Admins des Bots können Artikel hinzufügen. Um etwas zu fragen, tippe einfach deine Frage.

## Fragen und Antworten
question-empty = Bitte tippe eine Frage, zum Beispiel: Was ist diese Woche passiert?
question-empty-group = Frag mich etwas nach der Erwähnung, zum Beispiel: @{ $bot } was ist diese Woche passiert?
question-too-long = Diese Nachricht ist zu lang ({ $chars } Zeichen). Bitte halte Fragen unter { $max } Zeichen.
undelivered = Tut mir leid, deine Antwort ist fertig, aber ich konnte sie nicht senden (ein Verbindungsproblem). Tippe auf „Noch einmal“ oder sende „try again“, dann kommt sie sofort.
try-again-button = Noch einmal
answer-gone = Diese Antwort ist nicht mehr gespeichert. Bitte stell die Frage noch einmal.
no-answer = Ich konnte keine Antwort erstellen.
sources-title = Quellen
quotes-title = Zitate
no-quote = (kein Zitat gespeichert)
show-quotes-button = Zitate zeigen
quotes-expired = Diese Zitate sind abgelaufen. Stell die Frage noch einmal, um sie zu sehen.

## Bewertungen und /forgetme
feedback-off = Bewertungen werden nicht gesammelt.
feedback-question-gone = Diese Frage ist nicht mehr im Protokoll.
feedback-taken-back = Bewertung zurückgenommen.
feedback-thanks = Danke für die Bewertung!
feedback-prompt = Schade, dass es nicht gepasst hat. Was war falsch? Tippe auf einen Grund oder antworte auf diese Nachricht mit einer Zeile.
feedback-reason-wrong = falsch
feedback-reason-outdated = veraltet
feedback-reason-not-asked = nicht meine Frage
feedback-noted = Notiert: { $reason }. Danke.
feedback-gone = Diese Bewertung ist nicht mehr im Protokoll.
feedback-typed-noted = Notiert, danke.
feedback-typed-gone = Diese Bewertung ist nicht mehr im Protokoll (oder wurde in 👍 geändert).
forgot-private = Erledigt: Ich habe { $count } { $count ->
        [one] protokollierte Frage
       *[other] protokollierte Fragen
    } von dir und unser Gespräch gelöscht.
forgot-group = Erledigt: Ich habe { $count } { $count ->
        [one] protokollierte Frage
       *[other] protokollierte Fragen
    } gelöscht, die du mir privat gestellt hast. Fragen in Gruppen werden ohne Absender protokolliert und lassen sich deshalb nicht zuordnen.

## Themen-Benachrichtigungen
alerts-off = Themen-Benachrichtigungen sind in diesem Bot nicht eingeschaltet.
follow-usage = Verwendung: /follow <Thema>, zum Beispiel /follow Proteste in Hongkong
follow-too-long = Bitte halte ein Thema unter { $max } Zeichen.
follow-exists = Du folgst „{ $topic }“ schon. /following listet deine Themen.
follow-full = Du folgst schon { $max } Themen; beende zuerst eines mit /unfollow.
follow-done = Du folgst „{ $topic }“. Wenn ein neuer Artikel dazu erscheint, schicke ich dir Titel, Datum, Link und ein Zitat. /unfollow beendet es.
following-none = Du folgst keinem Thema. Fang mit /follow <Thema> an.
following-title = Du folgst:
following-footer = /unfollow beendet eines.
unfollow-none = Du folgst keinem Thema.
unfollow-button = „{ $topic }“ beenden
unfollow-which = Welchem Thema soll ich nicht mehr folgen?
unfollow-unknown = Du folgst „{ $topic }“ nicht. /following listet deine Themen.
unfollow-done = Du folgst „{ $topic }“ nicht mehr.
unfollow-gone = Du folgst diesem Thema nicht mehr.
alert-gone = Diese Benachrichtigung ist nicht mehr verfügbar.
alert-talk = Reden wir über <b>{ $title }</b>{ $dated }. Frag mich alles dazu, zum Beispiel: <i>Was ist passiert?</i>
alert-following = Du folgst „{ $topic }“
ask-about-button = Danach fragen
ask-again-button = Erneut fragen
correction-withdrawn = Der Artikel { $title }, den ich in einer Antwort an dich zitiert habe, wurde zurückgezogen. Geh mit dem, was ich daraus zitiert habe, vorsichtig um.
correction-updated = Der Artikel { $title }, den ich in einer Antwort an dich zitiert habe, wurde aktualisiert. Tippe auf „Erneut fragen“, um nach der aktuellen Fassung zu fragen.

## Eine Frage in einer anderen Sprache als die Artikel ({ $collection } ist die Sprache der Artikel, auf Deutsch benannt)
reader-needs-model = Fragen in deiner Sprache brauchen ein Antwortmodell (LLM) oder ein mehrsprachiges Embedding-Modell, und keins von beiden ist eingerichtet. Fragen in der Sprache der Artikel ({ $collection }) funktionieren schon jetzt; ein Admin kann eines der beiden Modelle einschalten.
reader-not-covered = Meine Artikel behandeln das nicht.
reader-closest = Die nächstliegenden Artikel:
reader-none-close = Kein Artikel kommt dieser Frage nahe.
reader-untranslated = Die folgenden Zitate stehen in der Sprache der Artikel ({ $collection }) und sind nicht übersetzt.

## Sprachfragen
voice-off = Sprachfragen brauchen einen Transkriptionsdienst, und keiner ist eingerichtet. Ein Admin schaltet ihn mit TRANSCRIBE_MODEL ein (whisper-1 von OpenAI oder ein lokaler Whisper-Server über TRANSCRIBE_BASE_URL). Getippte Fragen funktionieren schon jetzt.
voice-too-long = Diese Sprachnachricht ist { $seconds } s lang; ich nehme höchstens { $max } s an. Stell die Frage bitte kürzer oder tippe sie.
voice-too-large = Diese Audiodatei ist größer als { $size }, so viel lässt Telegram einen Bot herunterladen. Schick bitte eine kleinere oder tippe die Frage.
voice-unreadable = Ich konnte diese Aufnahme nicht verstehen. Versuch es bitte noch einmal oder tippe die Frage.
voice-empty = In dieser Sprachnachricht habe ich keine Worte gehört. Versuch es bitte noch einmal oder tippe die Frage.
voice-unavailable = Der Transkriptionsdienst antwortet gerade nicht. Tippe die Frage bitte oder schick die Sprachnachricht in ein paar Minuten noch einmal.
