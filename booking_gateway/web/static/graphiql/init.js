// GraphiQL for booking-gateway: served by the gateway itself, so it works without internet access.
// The API key goes in the Headers tab; it is not stored in localStorage (shouldPersistHeaders: false).
(function () {
  var url = window.location.origin + "/graphql";
  var subscriptionUrl = url.replace(/^http/, "ws");

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    var authorization = headers.Authorization || headers.authorization;
    return GraphiQL.createFetcher({
      url: url,
      subscriptionUrl: subscriptionUrl,
      headers: headers,
      wsConnectionParams: authorization ? { authorization: authorization } : {},
    })(params, options);
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: '{\n  "Authorization": "Bearer <your API key>"\n}',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
    }),
  );
})();
