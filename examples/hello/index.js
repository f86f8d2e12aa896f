// The smallest Web-standard handler. The benchmark (bench/) deploys this one, so keep it minimal:
// any work added here would be charged to the platform's overhead.
export default {
  fetch() {
    return new Response('hello');
  },
};
