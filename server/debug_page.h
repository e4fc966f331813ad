// The debug page (recall-server --debug_port): one reader's recall as a
// person looks at it. JSON endpoints plus one static page, served on
// HttpServer (server/http_server.h), the HTTP code the metrics endpoint uses.
//
// Routes (GET or HEAD):
//   /             the page: static HTML and script, no external resources;
//                 /?user=ID opens it for that user, /?item=ID on the items
//                 similar to ID
//   /api/recall   ?request=JSON: a recall.v1.RecallRequest in proto3 JSON
//                 (what `grpcurl -d` sends), or the shorthand
//                 ?user=ID[&seeds=A,B][&k=N] (k defaults to 100). Answers
//                 {"response": RecallResponse, "items": {ID: ITEM, ...}}
//   /api/similar  ?request=JSON (a SimilarItemsRequest), or ?item=ID[&k=N]:
//                 the same shape as /api/recall
//   /api/user     ?user=ID: the user's record (recent clicks, tags,
//                 clusters, user vectors' spaces), the click stream's state
//                 for them (fresh clicks, hot now) and the live segment's
//   /api/info     GetSnapshotInfo's answer
// where ITEM is {"item_id", "title", "cat1", "cat2", "media_id", "tags":
// [{"tag", "weight"}], "publish_ts", "live"}. JSON keeps proto field names,
// as `recallctl query --json` does.
//
// Answers come from the engine and the conversion the RPC uses
// (SnapshotManager::Current(), RecallEngine::Recall / SimilarItems,
// AnswerToProto, FillSnapshotInfo): no second code path to drift. They are
// not counted in the RPC metrics. A request the RPC refuses is refused with
// the same status and message, as JSON {"code": "INVALID_ARGUMENT",
// "message": ...} and the HTTP status of the code (400 INVALID_ARGUMENT and
// OUT_OF_RANGE, 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 504
// DEADLINE_EXCEEDED, 500 otherwise). Each answer has a 2 s deadline.
//
// Safety: the port is off by default and listens on loopback only (main.cc);
// titles and tags are user content, so the page only ever puts data into
// the document as text (textContent), never as markup.
//
// Thread safety: the handlers are safe to call concurrently (HttpServer runs
// them on its threads); the sources must outlive the routes.
#ifndef RECALL_SERVER_DEBUG_PAGE_H_
#define RECALL_SERVER_DEBUG_PAGE_H_

#include <map>
#include <string>

#include "server/http_server.h"
#include "server/snapshot_manager.h"
#include "stream/click_consumer.h"
#include "stream/item_consumer.h"

namespace recall {

struct DebugSources {
  const SnapshotManager* snapshots = nullptr;   // required
  const ClickConsumer* click_stream = nullptr;  // null: no click stream
  const ItemConsumer* item_stream = nullptr;    // null: no item stream
};

// The routes above, for HttpServerOptions::routes.
std::map<std::string, HttpHandler> DebugRoutes(DebugSources sources);

// The page served at "/" (debug_page_html.cc).
extern const char kDebugPageHtml[];

}  // namespace recall

#endif  // RECALL_SERVER_DEBUG_PAGE_H_
