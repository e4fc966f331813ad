# Unit tests mirroring library files (server/, index/, recall/channel).
recall_add_test(exact_index_test index/exact_index_test.cc recall_index)
recall_add_test(channel_test recall/channel_test.cc recall_recall)
recall_add_test(metrics_test server/metrics_test.cc recall_server)
recall_add_test(pool_executor_test server/pool_executor_test.cc recall_server)
recall_add_test(recall_service_test server/recall_service_test.cc recall_server)
