export function App() {
  return (
    <main>
      <h1>clusterscope</h1>
    </main>
  );
}
