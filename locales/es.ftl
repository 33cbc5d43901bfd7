# La interfaz del bot en español. Claves y marcadores ({ $name }) como en en.ftl; las etiquetas HTML de Telegram se mantienen.

language-self = Español

## Menú de comandos (setMyCommands)
menu-start = Qué sé y cómo preguntarme
menu-help = Cómo usar este bot
menu-sources = Lista de los artículos indexados
menu-reset = Olvidar nuestra conversación
menu-forgetme = Borrar tus preguntas que registré
menu-follow = Alertas sobre un tema: /follow <tema>
menu-following = Los temas que sigues
menu-unfollow = Dejar de seguir un tema
menu-language = Elegir el idioma en que escribo
menu-reindex = Actualizar el índice (/reindex full lo reconstruye)
menu-add = Añadir un artículo: /add <url>
menu-remove = Quitar un artículo: /remove <id>
menu-stats = Estadísticas del índice y del bot
menu-feeds = Suscripciones a feeds y su estado
menu-feed = Gestionar feeds: /feed add <url>, /feed remove <url>
menu-audit = Quién añadió, quitó o reindexó qué
menu-gaps = Lo que preguntaron los lectores y los artículos no responden

## /start y /help
start-knows = ¡Hola! Respondo preguntas sobre <b>{ $count }</b> { $count ->
        [one] artículo
       *[other] artículos
    } de noticias y cito los artículos que uso.
start-knows-on = ¡Hola! Respondo preguntas sobre <b>{ $count }</b> { $count ->
        [one] artículo de noticias publicado
       *[other] artículos de noticias publicados
    } el { $date }, y cito los artículos que uso.
start-knows-between = ¡Hola! Respondo preguntas sobre <b>{ $count }</b> { $count ->
        [one] artículo de noticias publicado
       *[other] artículos de noticias publicados
    } entre el { $first } y el { $last }, y cito los artículos que uso.
start-empty = ¡Hola! Respondo preguntas sobre artículos de noticias, pero todavía no hay ninguno indexado.
start-commands = /sources lista los artículos · /reset empieza de nuevo · /help
ask-in-group = Mencióname (@{ $bot }) en tu pregunta, o responde a uno de mis mensajes.
ask-example-one = Escribe sin más una pregunta, por ejemplo: { $first }
ask-example-two = Escribe sin más una pregunta, por ejemplo: { $first } o { $second }
ask-plain = Escribe sin más una pregunta.
ask-follow-ups = También entiendo preguntas de seguimiento; responde a una de mis respuestas anteriores para seguir a partir de ella.
example-question = ¿Qué dicen los artículos sobre «{ $title }»?
help-title = <b>Cómo usarme</b>
help-answers = Las respuestas citan sus fuentes como [1], [2]…, con la lista de fuentes debajo; pulsa <i>Ver citas</i> para leer los fragmentos.
help-sources = /sources — lista de los artículos indexados
help-reset = /reset — olvidar nuestra conversación y empezar de nuevo
help-forgetme = /forgetme — borrar tus preguntas registradas y nuestra conversación
help-follow = /follow &lt;tema&gt; — una alerta cuando llega un artículo nuevo sobre él; /following, /unfollow
help-language = /language — el idioma en que escribo
help-inline = En cualquier chat, escribe <code>@{ $bot } palabras</code> para encontrar un artículo y compartirlo.
help-admin-title = <b>Administración</b>
help-admin-reindex = /reindex — recoger los artículos modificados (/reindex full lo reconstruye todo)
help-admin-add = /add &lt;url&gt; — descargar y añadir un artículo; o sube un archivo .txt, .md, .html o .pdf
help-admin-remove = /remove &lt;id&gt; — borrar un artículo (los id están en /sources)
help-admin-stats = /stats — estadísticas del índice y del bot
help-admin-feeds = /feeds — suscripciones a feeds y su estado; /feed add &lt;url&gt;, /feed remove &lt;url&gt;
help-admin-audit = /audit — quién añadió, quitó o reindexó qué, y cuándo
help-admin-gaps = /gaps [días] — lo que preguntaron los lectores y los artículos no responden

## /sources, /reset y lo que nadie atendió
sources-none = Todavía no hay artículos indexados.
sources-page = <b>Artículos</b> { $first }–{ $last } de { $total }
sources-previous = ‹ Anterior
sources-next = Siguiente ›
date-unknown = fecha desconocida
reset-done = Hecho: he olvidado nuestra conversación. Pregúntame lo que quieras.
unknown-command = No conozco { $command }. Prueba con /help.
unknown-command-unnamed = No conozco ese comando. Prueba con /help.
not-text = Solo puedo leer mensajes de texto. Escribe tu pregunta, por favor.
stale-button = Este botón ya no funciona. Vuelve a enviar el comando, por favor.

## /language
language-current = Te escribo en español. Pulsa otro idioma, o envía /language con su código: { $codes }.
language-current-auto = Te escribo en español, el idioma de tu Telegram. Pulsa otro idioma, o envía /language con su código: { $codes }.
language-set = Hecho: ahora te escribo en español.
language-auto = Hecho: vuelvo a seguir el idioma de tu Telegram y te escribo en español.
language-unknown = No escribo en «{ $code }». Puedo escribir en: { $codes }.
language-auto-button = Idioma de Telegram

## Límites y errores
private-bot = Lo siento, este bot es privado. Pide acceso a su propietario.
rate-limited = Envías mensajes más rápido de lo que puedo responder (límite: { $limit } por minuto). Espera un minuto y vuelve a preguntar.
something-went-wrong = Lo siento, algo ha fallado por mi parte. Inténtalo de nuevo en un momento.
admins-only = Lo siento, solo los administradores del bot pueden usar ese comando.
admins-only-upload = Solo los administradores del bot pueden añadir artículos. Para preguntar algo, escribe sin más tu pregunta.

## Preguntas y respuestas
question-empty = Escribe una pregunta, por ejemplo: ¿Qué pasó esta semana?
question-empty-group = Pregúntame algo después de la mención, por ejemplo: @{ $bot } ¿qué pasó esta semana?
question-too-long = Ese mensaje es demasiado largo ({ $chars } caracteres). Haz preguntas de menos de { $max } caracteres, por favor.
undelivered = Lo siento, tu respuesta está lista pero no he podido enviarla (un problema de conexión). Pulsa «Reintentar», o envía «try again», y llegará enseguida.
try-again-button = Reintentar
answer-gone = Esa respuesta ya no se conserva. Vuelve a hacer la pregunta, por favor.
no-answer = No he podido elaborar una respuesta.
sources-title = Fuentes
quotes-title = Citas
no-quote = (no se guardó ninguna cita)
show-quotes-button = Ver citas
quotes-expired = Estas citas han caducado. Vuelve a hacer la pregunta para verlas.

## Valoraciones y /forgetme
feedback-off = No se están recogiendo valoraciones.
feedback-question-gone = Esa pregunta ya no está en el registro.
feedback-taken-back = Valoración retirada.
feedback-thanks = ¡Gracias por tu valoración!
feedback-prompt = Siento no haber acertado. ¿Qué falló? Pulsa un motivo, o responde a este mensaje con una línea.
feedback-reason-wrong = incorrecta
feedback-reason-outdated = desactualizada
feedback-reason-not-asked = no es lo que pregunté
feedback-noted = Anotado: { $reason }. Gracias.
feedback-gone = Esa valoración ya no está en el registro.
feedback-typed-noted = Anotado, gracias.
feedback-typed-gone = Esa valoración ya no está en el registro (o se cambió a 👍).
forgot-private = Hecho: he borrado { $count } { $count ->
        [one] pregunta registrada tuya
       *[other] preguntas registradas tuyas
    } y nuestra conversación.
forgot-group = Hecho: he borrado { $count } { $count ->
        [one] pregunta registrada
       *[other] preguntas registradas
    } que me hiciste en privado. Las preguntas hechas en grupos se registran sin quién las hizo, así que no se pueden distinguir.

## Alertas por tema
alerts-off = Las alertas por tema no están activadas en este bot.
follow-usage = Uso: /follow <tema>, por ejemplo /follow protestas en Hong Kong
follow-too-long = Usa un tema de menos de { $max } caracteres, por favor.
follow-exists = Ya sigues «{ $topic }». /following lista tus temas.
follow-full = Ya sigues { $max } temas; deja de seguir uno con /unfollow primero.
follow-done = Siguiendo «{ $topic }». Cuando llegue un artículo nuevo sobre él, te enviaré su título, fecha, enlace y una cita. /unfollow lo detiene.
following-none = No sigues ningún tema. Empieza con /follow <tema>.
following-title = Sigues:
following-footer = /unfollow para dejar uno.
unfollow-none = No sigues ningún tema.
unfollow-button = Dejar «{ $topic }»
unfollow-which = ¿Qué tema dejo de seguir?
unfollow-unknown = No sigues «{ $topic }». /following lista tus temas.
unfollow-done = Has dejado de seguir «{ $topic }».
unfollow-gone = Ya no sigues ese tema.
alert-gone = Esta alerta ya no está disponible.
alert-talk = Hablemos de <b>{ $title }</b>{ $dated }. Pregúntame lo que quieras sobre ello, por ejemplo: <i>¿Qué pasó?</i>
alert-following = Sigues «{ $topic }»
ask-about-button = Preguntar sobre esto
ask-again-button = Volver a preguntar
correction-withdrawn = El artículo { $title }, que cité en una respuesta para ti, ha sido retirado. Toma con cautela lo que cité de él.
correction-updated = El artículo { $title }, que cité en una respuesta para ti, ha sido actualizado. Pulsa «Volver a preguntar» para preguntar por la versión actual.

## Una pregunta en otro idioma que el de los artículos ({ $collection } es el idioma de los artículos, nombrado en español)
reader-needs-model = Las preguntas en tu idioma necesitan un modelo de respuestas (LLM) o un modelo de embeddings multilingüe, y no hay ninguno configurado. Las preguntas en el idioma de los artículos ({ $collection }) ya funcionan; un administrador puede activar cualquiera de los dos.
reader-not-covered = Los artículos que tengo no tratan esto.
reader-closest = Los artículos más cercanos:
reader-none-close = Ningún artículo se acerca a esta pregunta.
reader-untranslated = Las citas siguientes están en el idioma de los artículos ({ $collection }), sin traducir.

## Preguntas por voz
voice-off = Las preguntas por voz necesitan un servicio de transcripción, y no hay ninguno configurado. Un administrador lo activa con TRANSCRIBE_MODEL (whisper-1 de OpenAI, o un servidor whisper local mediante TRANSCRIBE_BASE_URL). Las preguntas escritas ya funcionan.
voice-too-long = Este mensaje de voz dura { $seconds } s y acepto como máximo { $max } s. Haz la pregunta en uno más corto o escríbela.
voice-too-large = Este archivo de audio supera { $size }, lo máximo que Telegram deja descargar a un bot. Envía uno más pequeño o escribe la pregunta.
voice-unreadable = No he podido entender este audio. Inténtalo de nuevo o escribe la pregunta.
voice-empty = No he oído ninguna palabra en este mensaje de voz. Inténtalo de nuevo o escribe la pregunta.
voice-unavailable = El servicio de transcripción no responde ahora mismo. Escribe la pregunta o vuelve a enviar el audio dentro de unos minutos.
