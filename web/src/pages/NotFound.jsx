// Any hash route the console does not know: says so and links home.
export function NotFound({ path }) {
  return (
    <div data-testid="page-not-found">
      <h1>Not found</h1>
      <div class="box empty" data-testid="empty">
        There is no page at <code>#{path}</code>. <a href="#/">Go to the dashboard</a>.
      </div>
    </div>
  );
}
