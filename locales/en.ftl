# The bot's interface in English: the reference every other locale is checked against
# (test/i18n/locales.test.ts). Telegram HTML tags in a message stay as they are in every language;
# placeables ({ $name }) are filled in by the code and must keep their names.

# The language's own name, on the /language buttons.
language-self = English

## The command menu (setMyCommands): at most 256 characters each.
menu-start = What I know and how to ask
menu-help = How to use this bot
menu-sources = List the indexed articles
menu-reset = Forget our conversation
menu-forgetme = Delete the questions I logged from you
menu-follow = Get alerts on a topic: /follow <topic>
menu-following = The topics you follow
menu-unfollow = Stop following a topic
menu-language = Choose the language I write in
menu-reindex = Update the index (/reindex full rebuilds)
menu-add = Add an article: /add <url>
menu-remove = Remove an article: /remove <id>
menu-stats = Index and bot statistics
menu-feeds = Feed subscriptions and their state
menu-feed = Manage feeds: /feed add <url>, /feed remove <url>
menu-audit = Who added, removed or reindexed what
menu-gaps = What readers asked that the articles do not answer

## /start and /help (Telegram HTML)
start-knows = Hi! I answer questions about <b>{ $count }</b> news { $count ->
        [one] article
       *[other] articles
    }, and cite the articles I used.
start-knows-on = Hi! I answer questions about <b>{ $count }</b> news { $count ->
        [one] article
       *[other] articles
    }, published { $date }, and cite the articles I used.
start-knows-between = Hi! I answer questions about <b>{ $count }</b> news { $count ->
        [one] article
       *[other] articles
    }, published { $first } to { $last }, and cite the articles I used.
start-empty = Hi! I answer questions about news articles, but none are indexed yet.
start-commands = /sources lists the articles · /reset starts over · /help
ask-in-group = Mention me (@{ $bot }) with your question, or reply to one of my messages.
ask-example-one = Just type a question, for example: { $first }
ask-example-two = Just type a question, for example: { $first } or { $second }
ask-plain = Just type a question.
ask-follow-ups = Follow-up questions work too; reply to one of my older answers to continue from it.
example-question = What do the articles say about “{ $title }”?
help-title = <b>How to use me</b>
help-answers = Answers cite their sources as [1], [2]… with a Sources list below; tap <i>Show quotes</i> to see the passages.
help-sources = /sources — list the indexed articles
help-reset = /reset — forget our conversation and start over
help-forgetme = /forgetme — delete your logged questions and our conversation
help-follow = /follow &lt;topic&gt; — an alert when a new article on it arrives; /following, /unfollow
help-language = /language — the language I write in
help-inline = In any chat, type <code>@{ $bot } words</code> to find an article and share it.
help-admin-title = <b>Admin</b>
help-admin-reindex = /reindex — pick up changed articles (/reindex full rebuilds everything)
help-admin-add = /add &lt;url&gt; — fetch and add an article; or upload a .txt, .md, .html or .pdf file
help-admin-remove = /remove &lt;id&gt; — delete an article (ids are in /sources)
help-admin-stats = /stats — index and bot statistics
help-admin-feeds = /feeds — feed subscriptions and their state; /feed add &lt;url&gt;, /feed remove &lt;url&gt;
help-admin-audit = /audit — who added, removed or reindexed what, and when
help-admin-gaps = /gaps [days] — what readers asked that the articles do not answer

## /sources, /reset, and what no feature handled
sources-none = No articles are indexed yet.
sources-page = <b>Articles</b> { $first }–{ $last } of { $total }
sources-previous = ‹ Previous
sources-next = Next ›
date-unknown = date unknown
reset-done = Done: I have forgotten our conversation. Ask me anything.
unknown-command = I don't know { $command }. Try /help.
unknown-command-unnamed = I don't know that command. Try /help.
not-text = I can only read text messages. Please type your question.
stale-button = This button no longer works. Please try the command again.

## /language
language-current = I write to you in English. Tap a language, or send /language and its code: { $codes }.
language-current-auto = I write to you in English, your Telegram language. Tap a language, or send /language and its code: { $codes }.
language-set = Done: I write to you in English now.
language-auto = Done: I follow your Telegram language again, and write to you in English.
language-unknown = I don't write in “{ $code }”. I can write in: { $codes }.
language-auto-button = Telegram's language

## Gates and errors
private-bot = Sorry, this bot is private. Please ask its owner for access.
rate-limited = You're sending messages faster than I can answer (limit: { $limit } per minute). Please wait a minute, then ask again.
something-went-wrong = Sorry, something went wrong on my side. Please try again in a moment.
admins-only = Sorry, only the bot’s admins can use that command.
admins-only-upload = Only the bot’s admins can add articles. To ask something, just type your question.

## Questions and answers
question-empty = Please type a question, for example: What happened this week?
question-empty-group = Ask me something after the mention, for example: @{ $bot } what happened this week?
question-too-long = That message is too long ({ $chars } characters). Please keep questions under { $max } characters.
undelivered = Sorry, your answer is ready but I could not send it (a connection problem). Tap “Try again”, or send “try again”, and it comes right away.
try-again-button = Try again
answer-gone = That answer is no longer kept. Please ask the question again.
no-answer = I could not produce an answer.
sources-title = Sources
quotes-title = Quotes
no-quote = (no quote recorded)
show-quotes-button = Show quotes
quotes-expired = These quotes have expired. Ask the question again to see them.

## Feedback and /forgetme
feedback-off = Feedback is not being collected.
feedback-question-gone = That question is no longer in the log.
feedback-taken-back = Feedback taken back.
feedback-thanks = Thanks for the feedback!
feedback-prompt = Sorry it missed. What was wrong? Tap a reason, or reply to this message with one line.
feedback-reason-wrong = wrong
feedback-reason-outdated = outdated
feedback-reason-not-asked = not what I asked
feedback-noted = Noted: { $reason }. Thank you.
feedback-gone = That feedback is no longer in the log.
feedback-typed-noted = Noted, thank you.
feedback-typed-gone = That feedback is no longer in the log (or was changed to 👍).
forgot-private = Done: I deleted { $count } logged { $count ->
        [one] question
       *[other] questions
    } of yours and our conversation.
forgot-group = Done: I deleted { $count } logged { $count ->
        [one] question
       *[other] questions
    } you asked me in private. Questions asked in groups are logged without who asked, so they cannot be told apart.

## Topic alerts
alerts-off = Topic alerts are not enabled in this bot.
follow-usage = Usage: /follow <topic>, for example /follow Hong Kong protests
follow-too-long = Please keep a topic under { $max } characters.
follow-exists = You already follow “{ $topic }”. /following lists your topics.
follow-full = You follow { $max } topics already; /unfollow one first.
follow-done = Following “{ $topic }”. When a new article on it arrives, I’ll send you its title, date, link and a quote. /unfollow stops it.
following-none = You follow no topics. Start with /follow <topic>.
following-title = You follow:
following-footer = /unfollow to stop one.
unfollow-none = You follow no topics.
unfollow-button = Stop “{ $topic }”
unfollow-which = Which topic should I stop following?
unfollow-unknown = You do not follow “{ $topic }”. /following lists your topics.
unfollow-done = Stopped following “{ $topic }”.
unfollow-gone = You no longer follow that topic.
alert-gone = This alert is no longer available.
alert-talk = Let’s talk about <b>{ $title }</b>{ $dated }. Ask me anything about it, for example: <i>What happened?</i>
alert-following = You follow “{ $topic }”
ask-about-button = Ask about this
ask-again-button = Ask again
correction-withdrawn = { $title }, which I cited in an answer to you, has been withdrawn. Treat what I quoted from it with care.
correction-updated = { $title }, which I cited in an answer to you, has been updated. Tap “Ask again” to ask about the current version.

## A question in another language than the articles' ({ $collection } is the articles' language, named in the reader's)
reader-needs-model = Questions in your language need an answer model (LLM) or a multilingual embedding model, and neither is configured. Questions in the articles' language ({ $collection }) work now; an admin can turn on either model.
reader-not-covered = The articles I have don't cover this.
reader-closest = The closest articles:
reader-none-close = No article comes close to this question.
reader-untranslated = The quotes below are in the articles' language ({ $collection }), untranslated.

## Voice questions
voice-off = Voice questions need a speech-to-text service, and none is set up. An admin turns it on with TRANSCRIBE_MODEL (OpenAI's whisper-1, or a local whisper server through TRANSCRIBE_BASE_URL). Typed questions work now.
voice-too-long = That voice message is { $seconds } s long; I can take up to { $max } s. Please ask in a shorter one, or type the question.
voice-too-large = That audio file is over { $size }, as much as Telegram lets a bot download. Please send a smaller one, or type the question.
voice-unreadable = I could not make out that audio. Please try again, or type the question.
voice-empty = I heard no words in that voice message. Please try again, or type the question.
voice-unavailable = The speech-to-text service is not answering right now. Please type the question, or send the voice message again in a few minutes.
