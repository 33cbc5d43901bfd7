# L'interface du bot en français. Clés et paramètres ({ $name }) comme dans en.ftl ; les balises HTML de Telegram restent telles quelles.

language-self = Français

## Menu des commandes (setMyCommands)
menu-start = Ce que je sais et comment me questionner
menu-help = Comment utiliser ce bot
menu-sources = La liste des articles indexés
menu-reset = Oublier notre conversation
menu-forgetme = Effacer vos questions que j'ai enregistrées
menu-follow = Des alertes sur un sujet : /follow <sujet>
menu-following = Les sujets que vous suivez
menu-unfollow = Ne plus suivre un sujet
menu-language = Choisir la langue dans laquelle j'écris
menu-reindex = Mettre à jour l'index (/reindex full reconstruit tout)
menu-add = Ajouter un article : /add <url>
menu-remove = Retirer un article : /remove <id>
menu-stats = Statistiques de l'index et du bot
menu-feeds = Abonnements aux flux et leur état
menu-feed = Gérer les flux : /feed add <url>, /feed remove <url>
menu-audit = Qui a ajouté, retiré ou réindexé quoi
menu-gaps = Ce que les lecteurs ont demandé et que les articles ne couvrent pas

## /start et /help
start-knows = Bonjour ! Je réponds aux questions sur <b>{ $count }</b> { $count ->
        [one] article
       *[other] articles
    } d'actualité et je cite les articles utilisés.
start-knows-on = Bonjour ! Je réponds aux questions sur <b>{ $count }</b> { $count ->
        [one] article d'actualité publié
       *[other] articles d'actualité publiés
    } le { $date }, et je cite les articles utilisés.
start-knows-between = Bonjour ! Je réponds aux questions sur <b>{ $count }</b> { $count ->
        [one] article d'actualité publié
       *[other] articles d'actualité publiés
    } entre le { $first } et le { $last }, et je cite les articles utilisés.
start-empty = Bonjour ! Je réponds aux questions sur des articles d'actualité, mais aucun n'est encore indexé.
start-commands = /sources liste les articles · /reset recommence · /help
ask-in-group = Mentionnez-moi (@{ $bot }) dans votre question, ou répondez à l'un de mes messages.
ask-example-one = Écrivez simplement une question, par exemple : { $first }
ask-example-two = Écrivez simplement une question, par exemple : { $first } ou { $second }
ask-plain = Écrivez simplement une question.
ask-follow-ups = Les questions de suivi marchent aussi ; répondez à l'une de mes réponses précédentes pour reprendre à partir d'elle.
example-question = Que disent les articles sur « { $title } » ?
help-title = <b>Comment m'utiliser</b>
help-answers = Les réponses citent leurs sources sous la forme [1], [2]…, avec la liste des sources en dessous ; touchez <i>Voir les citations</i> pour lire les passages.
help-sources = /sources — la liste des articles indexés
help-reset = /reset — oublier notre conversation et recommencer
help-forgetme = /forgetme — effacer vos questions enregistrées et notre conversation
help-follow = /follow &lt;sujet&gt; — une alerte quand un nouvel article sur ce sujet arrive ; /following, /unfollow
help-language = /language — la langue dans laquelle j'écris
help-inline = Dans n'importe quelle discussion, tapez <code>@{ $bot } mots</code> pour trouver un article et le partager.
help-admin-title = <b>Administration</b>
help-admin-reindex = /reindex — prendre en compte les articles modifiés (/reindex full reconstruit tout)
help-admin-add = /add &lt;url&gt; — récupérer et ajouter un article ; ou envoyez un fichier .txt, .md, .html ou .pdf
help-admin-remove = /remove &lt;id&gt; — supprimer un article (les identifiants sont dans /sources)
help-admin-stats = /stats — statistiques de l'index et du bot
help-admin-feeds = /feeds — abonnements aux flux et leur état ; /feed add &lt;url&gt;, /feed remove &lt;url&gt;
help-admin-audit = /audit — qui a ajouté, retiré ou réindexé quoi, et quand
help-admin-gaps = /gaps [jours] — ce que les lecteurs ont demandé et que les articles ne couvrent pas

## /sources, /reset et ce que personne n'a traité
sources-none = Aucun article n'est encore indexé.
sources-page = <b>Articles</b> { $first }–{ $last } sur { $total }
sources-previous = ‹ Précédents
sources-next = Suivants ›
date-unknown = date inconnue
reset-done = C'est fait : j'ai oublié notre conversation. Demandez-moi ce que vous voulez.
unknown-command = Je ne connais pas { $command }. Essayez /help.
unknown-command-unnamed = Je ne connais pas cette commande. Essayez /help.
not-text = Je ne sais lire que les messages texte. Écrivez votre question, s'il vous plaît.
stale-button = Ce bouton ne fonctionne plus. Renvoyez la commande, s'il vous plaît.

## /language
language-current = Je vous écris en français. Touchez une autre langue, ou envoyez /language suivi de son code : { $codes }.
language-current-auto = Je vous écris en français, la langue de votre Telegram. Touchez une autre langue, ou envoyez /language suivi de son code : { $codes }.
language-set = C'est fait : je vous écris désormais en français.
language-auto = C'est fait : je suis de nouveau la langue de votre Telegram et vous écris en français.
language-unknown = Je n'écris pas en « { $code } ». Je peux écrire en : { $codes }.
language-auto-button = Langue de Telegram

## Limites et erreurs
private-bot = Désolé, ce bot est privé. Demandez l'accès à son propriétaire.
rate-limited = Vous envoyez des messages plus vite que je ne peux répondre (limite : { $limit } par minute). Attendez une minute, puis reposez votre question.
something-went-wrong = Désolé, quelque chose s'est mal passé de mon côté. Réessayez dans un instant.
admins-only = Désolé, seuls les administrateurs du bot peuvent utiliser cette commande.
admins-only-upload = Seuls les administrateurs du bot peuvent ajouter des articles. Pour poser une question, écrivez-la simplement.

## Questions et réponses
question-empty = Écrivez une question, par exemple : Que s'est-il passé cette semaine ?
question-empty-group = Posez-moi une question après la mention, par exemple : @{ $bot } que s'est-il passé cette semaine ?
question-too-long = Ce message est trop long ({ $chars } caractères). Posez des questions de moins de { $max } caractères, s'il vous plaît.
undelivered = Désolé, votre réponse est prête mais je n'ai pas pu l'envoyer (un problème de connexion). Touchez « Réessayer », ou envoyez « try again », et elle arrive aussitôt.
try-again-button = Réessayer
answer-gone = Cette réponse n'est plus conservée. Reposez la question, s'il vous plaît.
no-answer = Je n'ai pas pu produire de réponse.
sources-title = Sources
quotes-title = Citations
no-quote = (aucune citation enregistrée)
show-quotes-button = Voir les citations
quotes-expired = Ces citations ont expiré. Reposez la question pour les voir.

## Avis et /forgetme
feedback-off = Les avis ne sont pas recueillis.
feedback-question-gone = Cette question n'est plus dans le journal.
feedback-taken-back = Avis retiré.
feedback-thanks = Merci pour votre avis !
feedback-prompt = Désolé d'avoir manqué la cible. Qu'est-ce qui n'allait pas ? Touchez une raison, ou répondez à ce message en une ligne.
feedback-reason-wrong = faux
feedback-reason-outdated = dépassé
feedback-reason-not-asked = pas ma question
feedback-noted = C'est noté : { $reason }. Merci.
feedback-gone = Cet avis n'est plus dans le journal.
feedback-typed-noted = C'est noté, merci.
feedback-typed-gone = Cet avis n'est plus dans le journal (ou a été changé en 👍).
forgot-private = C'est fait : j'ai effacé vos questions enregistrées ({ $count }) et notre conversation.
forgot-group = C'est fait : j'ai effacé les questions que vous m'avez posées en privé ({ $count }). Les questions posées dans les groupes sont enregistrées sans leur auteur : on ne peut donc pas les distinguer.

## Alertes par sujet
alerts-off = Les alertes par sujet ne sont pas activées dans ce bot.
follow-usage = Utilisation : /follow <sujet>, par exemple /follow manifestations à Hong Kong
follow-too-long = Gardez un sujet sous { $max } caractères, s'il vous plaît.
follow-exists = Vous suivez déjà « { $topic } ». /following liste vos sujets.
follow-full = Vous suivez déjà { $max } sujets ; arrêtez-en un d'abord avec /unfollow.
follow-done = Vous suivez « { $topic } ». Quand un nouvel article sur ce sujet arrivera, je vous enverrai son titre, sa date, son lien et une citation. /unfollow l'arrête.
following-none = Vous ne suivez aucun sujet. Commencez par /follow <sujet>.
following-title = Vous suivez :
following-footer = /unfollow pour en arrêter un.
unfollow-none = Vous ne suivez aucun sujet.
unfollow-button = Arrêter « { $topic } »
unfollow-which = Quel sujet dois-je arrêter de suivre ?
unfollow-unknown = Vous ne suivez pas « { $topic } ». /following liste vos sujets.
unfollow-done = Vous ne suivez plus « { $topic } ».
unfollow-gone = Vous ne suivez plus ce sujet.
alert-gone = Cette alerte n'est plus disponible.
alert-talk = Parlons de <b>{ $title }</b>{ $dated }. Demandez-moi ce que vous voulez à ce sujet, par exemple : <i>Que s'est-il passé ?</i>
alert-following = Vous suivez « { $topic } »
ask-about-button = En savoir plus
ask-again-button = Redemander
correction-withdrawn = L'article { $title }, que j'ai cité dans une réponse pour vous, a été retiré. Prenez avec précaution ce que j'en ai cité.
correction-updated = L'article { $title }, que j'ai cité dans une réponse pour vous, a été mis à jour. Touchez « Redemander » pour poser la question sur la version actuelle.

## Une question dans une autre langue que celle des articles ({ $collection } est la langue des articles, nommée en français)
reader-needs-model = Les questions dans votre langue demandent un modèle de réponse (LLM) ou un modèle d'embeddings multilingue, et aucun n'est configuré. Les questions dans la langue des articles ({ $collection }) fonctionnent dès maintenant ; un administrateur peut activer l'un ou l'autre.
reader-not-covered = Les articles dont je dispose n'en parlent pas.
reader-closest = Les articles les plus proches :
reader-none-close = Aucun article ne se rapproche de cette question.
reader-untranslated = Les citations ci-dessous sont dans la langue des articles ({ $collection }), non traduites.

## Questions vocales
voice-off = Les questions vocales demandent un service de transcription, et aucun n'est configuré. Un administrateur l'active avec TRANSCRIBE_MODEL (whisper-1 d'OpenAI, ou un serveur whisper local via TRANSCRIBE_BASE_URL). Les questions écrites fonctionnent dès maintenant.
voice-too-long = Ce message vocal dure { $seconds } s ; j'accepte au plus { $max } s. Posez la question dans un message plus court, ou écrivez-la.
voice-too-large = Ce fichier audio dépasse { $size }, le maximum qu'un bot peut télécharger sur Telegram. Envoyez-en un plus petit, ou écrivez la question.
voice-unreadable = Je n'ai pas pu comprendre cet audio. Réessayez, ou écrivez la question.
voice-empty = Je n'ai entendu aucun mot dans ce message vocal. Réessayez, ou écrivez la question.
voice-unavailable = Le service de transcription ne répond pas pour le moment. Écrivez la question, ou renvoyez le message vocal dans quelques minutes.
